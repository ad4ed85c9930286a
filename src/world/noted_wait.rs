//! What a task's poll notes it waits on, for its await point: the wait
//! (named in traces and reports) and the timeout scopes around it (where
//! an injected expiry can come). The first note wins, unless a later one
//! is inside a timeout and the first is not: the await point is then
//! inside that timeout, which can expire there.

use crate::trace::Wait;

use super::World;

impl World {
    /// Notes what the current poll is about to wait on: the first note
    /// wins, unless it was made outside every timeout and this one is
    /// made inside one — a connection task that polls its keep-alive read
    /// before the request's handler waits in the handler's `timeout`,
    /// where an expiry can come. The displaced note is kept, and named
    /// again if the scope of this one comes to nothing (a `select!` that is
    /// not a timeout scope, with none around it).
    #[inline(always)]
    pub fn note_wait(&self, wait: Wait) {
        if self.pending_wait.get().is_none() {
            self.pending_wait.set(Some(wait));
            self.note_scopes();
        } else {
            self.note_again(wait);
        }
    }

    /// The scopes of a wait noted now: the innermost, and the one around
    /// it.
    #[inline(always)]
    fn note_scopes(&self) {
        match self.scopes.try_borrow() {
            Ok(scopes) if !scopes.is_empty() => {
                let n = scopes.len();
                self.pending_scope.set(Some(scopes[n - 1]));
                self.pending_outer
                    .set(n.checked_sub(2).map(|below| scopes[below]));
            }
            _ => self.pending_scope.set(None),
        }
    }

    /// A poll ended without suspending: what it noted is forgotten (a
    /// displaced note is only ever read in the poll that made it).
    #[inline]
    pub(super) fn forget_pending_wait(&self) {
        self.pending_wait.take();
    }

    /// A later note of the poll: it wins when the first was made outside
    /// every scope and it is inside one.
    #[cold]
    #[inline(never)]
    fn note_again(&self, wait: Wait) {
        if self.pending_scope.get().is_some() {
            return;
        }
        let scoped = self.scopes.try_borrow().is_ok_and(|s| !s.is_empty());
        if scoped && self.unscoped_now().is_none() {
            let displaced = self.pending_wait.get();
            self.unscoped_note
                .set(displaced.map(|note| (note, self.step.get())));
            self.pending_wait.set(Some(wait));
            self.note_scopes();
        }
    }

    /// The note a scoped one displaced in this poll, if any.
    pub(super) fn unscoped_now(&self) -> Option<Wait> {
        self.unscoped_note
            .get()
            .filter(|(_, step)| *step == self.step.get())
            .map(|(note, _)| note)
    }

    /// [`World::unscoped_now`], taken.
    pub(super) fn take_unscoped(&self) -> Option<Wait> {
        let note = self.unscoped_now();
        self.unscoped_note.set(None);
        note
    }

    /// Withdraws a note made by a primitive that completed or was dropped
    /// within the same poll (it is no longer what the task waits on).
    pub fn retract_wait(&self, wait: Wait) {
        if self.pending_wait.get() == Some(wait) {
            // The note it displaced, if any, is the poll's note again.
            self.pending_wait.set(self.take_unscoped());
            self.pending_scope.set(None);
            self.pending_outer.set(None);
        } else if self.unscoped_now() == Some(wait) {
            self.unscoped_note.set(None);
        }
    }
}
