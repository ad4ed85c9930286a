//! `select!` with tokio's grammar, whose start branch is a recorded choice
//! of the schedule and whose outcome is a trace event.

/// tokio's `select!` (same grammar: `biased;`, `if` preconditions,
/// patterns that disable a branch, `else`), simulated: the branch a fair
/// `select!` polls first is a recorded scheduling decision (0 under the
/// `Fifo` baseline, explored under random schedules, replayed from a repro
/// line), and the trace says which branch won at which `file:line` and
/// which pending branches were dropped, at which await point. A branch
/// that is a timer (`sleep`, `sleep_until`, a reused `&mut sleep`,
/// `interval.tick()`) makes the `select!` a timeout around the others
/// ([`cancelsim::select::Race`]): a sweep expires it at every await point
/// they reach, and the timer then wins at its deadline.
#[macro_export]
macro_rules! select {
    (@ {
        start=$start:expr;
        ( $($count:tt)* )
        $( ( $($skip:tt)* ) $bind:pat = $fut:expr, if $c:expr => $handle:expr, )+
        ; $else:expr
    }) => {{
        #[doc(hidden)]
        mod __tokio_select_util {
            $crate::__private::tokio::select_priv_declare_output_enum!( ( $($count)* ) );
        }

        const BRANCHES: u32 = $crate::__private::tokio::count!( $($count)* );

        let mut disabled: __tokio_select_util::Mask = Default::default();
        // Polls of this `select!` so far: the losers of a race decided in
        // its first poll never waited at an await point.
        let mut polls: u32 = 0;
        // A timer branch makes the race a timeout scope for the others:
        // a sweep expires it at their await points.
        let mut race = $crate::__private::Race::new();

        $(
            if !$c {
                let mask: __tokio_select_util::Mask = 1 << $crate::__private::tokio::count!( $($skip)* );
                disabled |= mask;
            }
        )*

        let mut output = {
            let futures_init = ($( $fut, )+);
            let mut futures = ($( ::core::future::IntoFuture::into_future(
                        $crate::__private::tokio::count_field!( futures_init.$($skip)* )
            ),)+);
            let mut futures = &mut futures;

            ::core::future::poll_fn(|cx| {
                let mut is_pending = false;
                polls = polls.saturating_add(1);
                let start = $start;
                race.begin_poll(disabled as u64);

                for i in 0..BRANCHES {
                    let branch;
                    #[allow(clippy::modulo_one)]
                    {
                        branch = (start + i) % BRANCHES;
                    }
                    match branch {
                        $(
                            #[allow(unreachable_code)]
                            $crate::__private::tokio::count!( $($skip)* ) => {
                                let mask = 1 << branch;
                                if disabled & mask == mask {
                                    continue;
                                }
                                let ( $($skip,)* fut, .. ) = &mut *futures;
                                // Safety: the futures live in the tuple above,
                                // on this frame, and are never moved (as in
                                // tokio's own `select!`).
                                let fut = unsafe { ::core::pin::Pin::new_unchecked(fut) };
                                // Where the branch's future is written: its await point is
                                // named there when its wait is one cancelsim cannot locate,
                                // and a read on a simulated stream that no call of the
                                // facade's locates (`lines.next_line()`) is named there.
                                let at = $crate::__private::branch_location!($fut);
                                let out = match race.poll_branch_at(branch as usize, at, || $crate::__private::polled_at(at, || ::core::future::Future::poll(fut, cx))) {
                                    ::core::task::Poll::Ready(out) => out,
                                    ::core::task::Poll::Pending => {
                                        is_pending = true;
                                        continue;
                                    }
                                };
                                disabled |= mask;
                                #[allow(unused_variables)]
                                #[allow(unused_mut)]
                                match &out {
                                    $crate::__private::tokio::select_priv_clean_pattern!($bind) => {}
                                    _ => continue,
                                }
                                // Every branch still enabled (the winner is disabled
                                // now) is dropped: those that returned `Pending`, and
                                // those this poll had not reached yet (their futures
                                // were made at the `select!`, and what they hold goes
                                // with them: a `send(msg)`, a handler's request).
                                let dropped = (u64::MAX >> (64 - BRANCHES)) & !(disabled as u64);
                                race.won(branch as usize, dropped, polls);
                                race.end_poll();
                                return ::core::task::Poll::Ready($crate::__private::tokio::select_variant!(__tokio_select_util::Out, ($($skip)*))(out));
                            }
                        )*
                        _ => unreachable!("reaching this means there probably is an off by one bug"),
                    }
                }

                race.end_poll();
                if is_pending {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(__tokio_select_util::Out::Disabled)
                }
            }).await
        };

        match output {
            $(
                $crate::__private::tokio::select_variant!(__tokio_select_util::Out, ($($skip)*) ($bind)) => {
                    let _handler = race.handler($crate::__private::tokio::count!( $($skip)* ));
                    $handle
                }
            )*
            __tokio_select_util::Out::Disabled => $else,
            _ => unreachable!("failed to match bind"),
        }
    }};

    (@ { start=$start:expr; $($t:tt)* } ) => {
        $crate::select!(@{ start=$start; $($t)*; panic!("all branches are disabled and there is no else branch") })
    };
    (@ { start=$start:expr; $($t:tt)* } else => $else:expr $(,)?) => {
        $crate::select!(@{ start=$start; $($t)*; $else })
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr, if $c:expr => $h:block, $($r:tt)* ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if $c => $h, } $($r)*)
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr => $h:block, $($r:tt)* ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if true => $h, } $($r)*)
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr, if $c:expr => $h:block $($r:tt)* ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if $c => $h, } $($r)*)
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr => $h:block $($r:tt)* ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if true => $h, } $($r)*)
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr, if $c:expr => $h:expr ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if $c => $h, })
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr => $h:expr ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if true => $h, })
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr, if $c:expr => $h:expr, $($r:tt)* ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if $c => $h, } $($r)*)
    };
    (@ { start=$start:expr; ( $($s:tt)* ) $($t:tt)* } $p:pat = $f:expr => $h:expr, $($r:tt)* ) => {
        $crate::select!(@{ start=$start; ($($s)* _) $($t)* ($($s)*) $p = $f, if true => $h, } $($r)*)
    };

    ($(biased;)? else => $else:expr $(,)? ) => {{
        $else
    }};

    (biased; $p:pat = $($t:tt)* ) => {
        $crate::select!(@{ start=0; () } $p = $($t)*)
    };

    ( $p:pat = $($t:tt)* ) => {
        $crate::select!(@{ start={ $crate::__private::select_start(BRANCHES) }; () } $p = $($t)*)
    };

    () => {
        compile_error!("select! requires at least one branch.")
    };
}
