//! Panics that a library catches and turns into an error must not reach a clerk's
//! terminal as a backtrace.
//!
//! When a write of a Parquet file fails at its last step (the disk is full), deltalake
//! aborts the upload with object_store's `BufWriter::abort`, which panics by design once
//! the writer was shut down; deltalake catches that panic and carries on with the write's
//! error (deltalake-core 1.1 `datafile/writer.rs`), which the ingest then reports in
//! Chinese. The default panic hook would still print the caught panic and its backtrace
//! first. Every other panic is reported as before.

/// Installs the hook; call once, before any thread starts.
pub(crate) fn quiet_caught_library_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_caught_upload_abort(info) {
            report(info);
        }
    }));
}

/// object_store's "Already shut down" from `BufWriter::abort`, which deltalake catches.
fn is_caught_upload_abort(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    let message = payload.downcast_ref::<&str>().copied().or(payload.downcast_ref::<String>().map(String::as_str));
    let file = info.location().map(|l| l.file()).unwrap_or_default();
    message == Some("Already shut down") && file.contains("object_store") && file.ends_with("buffered.rs")
}
