//! The simulation build: tokio-stream's runtime parts over the
//! `cancelsim-tokio` facade, the rest passed through.

mod stream_ext;
mod stream_map;
pub mod wrappers;

pub use stream_ext::StreamExt;
pub use stream_map::StreamMap;
pub use tokio_stream::{
    empty, iter, once, pending, Empty, FromStream, Iter, Once, Pending, Stream, StreamNotifyClose,
};

/// Adapters for [`Stream`]s made by [`StreamExt`]'s methods: tokio-stream's
/// own, but the time adapters, which run on the virtual clock.
pub mod adapters {
    pub use tokio_stream::adapters::{
        Chain, Filter, FilterMap, Fuse, Map, MapWhile, Merge, Peekable, Skip, SkipWhile, Take,
        TakeWhile, Then,
    };

    #[cfg(feature = "time")]
    pub use crate::simulated::stream_ext::{ChunksTimeout, Throttle, Timeout, TimeoutRepeating};
}

#[cfg(feature = "time")]
pub use stream_ext::Elapsed;

#[cfg(feature = "time")]
#[deprecated = "Import those symbols from adapters instead"]
#[doc(hidden)]
pub use stream_ext::Timeout;
