//! A ledger file is mapped into memory while it is ingested (`ingest::read_file`). If
//! another program cuts the file short meanwhile, reading its lost pages raises SIGBUS,
//! which would end the process with a bare "Bus error". The batch is not committed
//! before every row has been read, so the warehouse is still at its previous version;
//! this says so, in words a clerk can act on.

/// Installs the SIGBUS report for a command that ingests files; call before its threads
/// start.
pub(crate) fn report_truncated_files() {
    #[cfg(unix)]
    // SAFETY: the handler only calls `write` and `_exit`, both async-signal-safe, and the
    // sigaction struct is fully initialised (zeroed, then the handler and an empty mask).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_bus_error as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

#[cfg(unix)]
extern "C" fn on_bus_error(_: libc::c_int) {
    const MESSAGE: &str = "\n错误：正在导入的文件在读取时被截断或改写（SIGBUS），本文件的导入已中止、未提交，\
        数据仓库仍是导入前的版本。请等文件写完、不再改动后再导入。\n";
    // SAFETY: write and _exit are async-signal-safe; MESSAGE is a valid buffer of its length.
    unsafe {
        libc::write(libc::STDERR_FILENO, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(2);
    }
}
