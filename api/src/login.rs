//! Guarding the login against password guessing and floods, as OWASP's authentication
//! cheat sheet asks and Grafana's brute-force protection does:
//!
//! - [`Throttle`]: attempts are counted per user name (trimmed, whitespace removed, lower
//!   case) and per client address (an IPv6 address by its /64) in a window that starts at
//!   the first failure. The attempt that reaches the limit (5 for a name, 20 for an address
//!   within 15 minutes) locks the name or address for 15 minutes: further attempts are
//!   refused (429) before any password is checked, the right one included. A success clears
//!   the name's count (not the address's: one valid account must not buy more guesses at
//!   others). Both tables are bounded: at their cap, expired entries go first, then the
//!   oldest unlocked one, then the lock nearest its end, so a flood of new names cannot push
//!   a locked name out while anything else is there.
//! - [`HashGate`]: argon2id holds 19 MiB while it verifies; at most 2 verifications run at
//!   once, on the blocking pool (never on an async worker), and at most 16 attempts wait for
//!   them; one more is answered 503 at once.
//!
//! An attempt is counted when it begins, so parallel requests cannot all slip under the
//! limit before the first failure is recorded; a success or an attempt never checked (the
//! gate was full, the catalog failed) is withdrawn.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use tokio::sync::Semaphore;

use crate::error::AppError;
use crate::queries::QueryRuntime;

/// The throttle's and the gate's limits.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts for one user name within `window`; the one that reaches it locks the name.
    pub name_failures: u32,
    /// Attempts from one client address within `window`; the one that reaches it locks
    /// the address (higher than a name's: an office behind one NAT address shares it).
    pub address_failures: u32,
    /// How long failures are counted, from the first one.
    pub window: Duration,
    /// How long a name or address stays locked.
    pub lockout: Duration,
    /// Names, and separately addresses, remembered at most.
    pub max_entries: usize,
    /// Password verifications at once (19 MiB each).
    pub max_hashing: usize,
    /// Attempts waiting for a verification; more are answered 503 at once.
    pub max_waiting: usize,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            name_failures: 5,
            address_failures: 20,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            max_entries: 10_000,
            max_hashing: 2,
            max_waiting: 16,
        }
    }
}

/// The client's address, from `ConnectInfo<SocketAddr>` (`api::serve` provides it); `None`
/// when the router runs without it (tests calling it directly): then only names count.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddr, Self::Rejection> {
        let connected = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let mocked = || parts.extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0);
        Ok(ClientAddr(connected.or_else(mocked).map(|a| a.ip())))
    }
}

/// The key of a user name: whitespace removed, lower case, at most 64 characters (user
/// names are at most 64 bytes, so only names that cannot exist share a key).
pub fn name_key(username: &str) -> String {
    username.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).take(64).collect()
}

/// The key of an address: IPv4 (also when mapped into IPv6), or the /64 of an IPv6
/// address (one host usually holds a whole /64).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Attempts counted in this window (begun, not withdrawn).
    attempts: u32,
    /// When the window started.
    since: Instant,
    /// Set by the attempt that reached the limit.
    locked_until: Option<Instant>,
    /// Whether a refusal during this lock went to the audit log.
    audited: bool,
}

impl Entry {
    fn fresh(now: Instant) -> Entry {
        Entry { attempts: 0, since: now, locked_until: None, audited: false }
    }

    fn expired(&self, now: Instant, window: Duration) -> bool {
        match self.locked_until {
            Some(until) => now >= until,
            None => now.saturating_duration_since(self.since) >= window,
        }
    }
}

/// Attempts per key (a name or an address), bounded to `cap` keys.
#[derive(Debug)]
struct Counters<K> {
    entries: HashMap<K, Entry>,
    limit: u32,
    window: Duration,
    lockout: Duration,
    cap: usize,
}

impl<K: Hash + Eq + Clone> Counters<K> {
    fn new(limit: u32, window: Duration, lockout: Duration, cap: usize) -> Counters<K> {
        Counters { entries: HashMap::new(), limit: limit.max(1), window, lockout, cap: cap.max(1) }
    }

    /// How long `key` stays locked, if it is, and whether this refusal is the lock's first
    /// (the one to audit).
    fn locked(&mut self, key: &K, now: Instant) -> Option<(Duration, bool)> {
        let entry = self.entries.get_mut(key)?;
        if entry.expired(now, self.window) {
            self.entries.remove(key);
            return None;
        }
        let until = entry.locked_until?;
        let first = !entry.audited;
        entry.audited = true;
        Some((until.saturating_duration_since(now), first))
    }

    /// Counts an attempt; the one that reaches the limit locks the key.
    fn count(&mut self, key: &K, now: Instant) {
        if !self.entries.contains_key(key) {
            self.make_room(now);
        }
        let entry = self.entries.entry(key.clone()).or_insert_with(|| Entry::fresh(now));
        if entry.expired(now, self.window) {
            *entry = Entry::fresh(now);
        }
        entry.attempts = entry.attempts.saturating_add(1);
        if entry.attempts >= self.limit && entry.locked_until.is_none() {
            entry.locked_until = Some(now + self.lockout);
        }
    }

    /// Takes back one attempt (it succeeded, or was never checked). An attempt that began
    /// in an earlier window takes one from the current window: harmless.
    fn withdraw(&mut self, key: &K) {
        let Some(entry) = self.entries.get_mut(key) else { return };
        entry.attempts = entry.attempts.saturating_sub(1);
        if entry.attempts < self.limit {
            entry.locked_until = None;
            entry.audited = false;
        }
        if entry.attempts == 0 {
            self.entries.remove(key);
        }
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }

    /// Makes room for one more key when the table is full: expired entries go, then the
    /// unlocked entry with the oldest window, then the lock nearest its end.
    fn make_room(&mut self, now: Instant) {
        if self.entries.len() < self.cap {
            return;
        }
        let window = self.window;
        self.entries.retain(|_, e| !e.expired(now, window));
        if self.entries.len() < self.cap {
            return;
        }
        let victim = self
            .entries
            .iter()
            .min_by_key(|(_, e)| match e.locked_until {
                None => (0u8, e.since),
                Some(until) => (1u8, until),
            })
            .map(|(k, _)| k.clone());
        if let Some(k) = victim {
            self.entries.remove(&k);
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Failed logins per user name and per client address.
#[derive(Debug)]
pub struct Throttle {
    tables: Mutex<Tables>,
}

#[derive(Debug)]
struct Tables {
    names: Counters<String>,
    addresses: Counters<IpAddr>,
}

/// An attempt under way: finish it with [`Throttle::succeeded`] or [`Throttle::withdraw`];
/// dropped (a wrong password, or the request abandoned) it stays counted as a failure.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    name: String,
    address: Option<IpAddr>,
}

/// An attempt refused while its name or address is locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// Until the later lock ends.
    pub retry_after: Duration,
    /// What to audit: the locks refusing their first attempt ("用户名 x", "地址 y"); empty
    /// for the lock's later refusals, so a flood writes one row per lock.
    pub audit: Vec<String>,
}

impl Throttled {
    /// `Retry-After` in whole seconds, rounded up.
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }

    /// The message shown: 「登录失败次数过多，请 N 分钟后再试」.
    pub fn message(&self) -> String {
        format!("登录失败次数过多，请 {} 分钟后再试", self.retry_after_secs().div_ceil(60))
    }

    pub fn error(&self) -> AppError {
        AppError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", self.message())
    }
}

impl Throttle {
    pub fn new(limits: &LoginLimits) -> Throttle {
        let (w, l, cap) = (limits.window, limits.lockout, limits.max_entries);
        Throttle {
            tables: Mutex::new(Tables {
                names: Counters::new(limits.name_failures, w, l, cap),
                addresses: Counters::new(limits.address_failures, w, l, cap),
            }),
        }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Begins an attempt for `username` from `address`, or refuses it while either is
    /// locked (then nothing is counted).
    pub fn begin(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<Attempt, Throttled> {
        let name = name_key(username);
        let address = address.map(address_key);
        let mut tables = self.tables();
        let mut refused = Throttled { retry_after: Duration::ZERO, audit: Vec::new() };
        let mut locked = false;
        if let Some((left, first)) = tables.names.locked(&name, now) {
            locked = true;
            refused.retry_after = refused.retry_after.max(left);
            if first {
                refused.audit.push(format!("用户名 {name}"));
            }
        }
        if let Some(ip) = address
            && let Some((left, first)) = tables.addresses.locked(&ip, now)
        {
            locked = true;
            refused.retry_after = refused.retry_after.max(left);
            if first {
                refused.audit.push(format!("地址 {ip}"));
            }
        }
        if locked {
            return Err(refused);
        }
        tables.names.count(&name, now);
        if let Some(ip) = address {
            tables.addresses.count(&ip, now);
        }
        Ok(Attempt { name, address })
    }

    /// The password was right: the name's count is cleared, the address's attempt withdrawn.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut tables = self.tables();
        tables.names.clear(&attempt.name);
        if let Some(ip) = attempt.address {
            tables.addresses.withdraw(&ip);
        }
    }

    /// The password was wrong (or the user unknown or disabled): the attempt stays counted.
    pub fn failed(&self, attempt: Attempt) {
        drop(attempt);
    }

    /// The password was never checked (the gate was full, the catalog failed).
    pub fn withdraw(&self, attempt: Attempt) {
        let mut tables = self.tables();
        tables.names.withdraw(&attempt.name);
        if let Some(ip) = attempt.address {
            tables.addresses.withdraw(&ip);
        }
    }

    /// Names and addresses remembered.
    pub fn entries(&self) -> (usize, usize) {
        let tables = self.tables();
        (tables.names.len(), tables.addresses.len())
    }
}

/// Bounds password hashing: `running` verifications at once on threads of their own (at
/// low priority, like the queries': a flood of logins must not make `/healthz` or a page
/// wait behind Argon2 on a two-core machine), and `waiting` more admitted to wait for them.
#[derive(Debug)]
pub struct HashGate {
    workers: QueryRuntime,
    slots: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
    stats: Arc<GateCounters>,
}

#[derive(Debug, Default)]
struct GateCounters {
    running: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicU64,
    busy: AtomicU64,
}

/// What the gate has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateStats {
    /// Verifications finished.
    pub verified: u64,
    /// Attempts answered 503 because the gate was full.
    pub refused_busy: u64,
    /// Most verifications that ran at once.
    pub peak_running: usize,
}

/// How long a caller refused by a full gate is told to wait.
pub const BUSY_RETRY_SECS: u64 = 5;

/// A place in the gate, held until the work ends (even if the request is abandoned).
#[derive(Debug)]
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    pub fn new(running: usize, waiting: usize) -> HashGate {
        let running = running.max(1);
        HashGate {
            workers: QueryRuntime::with_threads(running, "yishi-login"),
            slots: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: running + waiting,
            stats: Arc::default(),
        }
    }

    /// Runs `work` (a password check) on the blocking pool once a slot is free; a 503
    /// `login_busy` at once when the slots and the queue are full. The slot is held by the
    /// blocking task itself: an abandoned request does not free it before the hash is done.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let admission = Admission(self.admitted.clone());
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.max_admitted {
            self.stats.busy.fetch_add(1, Ordering::Relaxed);
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "login_busy",
                format!("登录请求过多，服务器正忙，请 {BUSY_RETRY_SECS} 秒后再试"),
            ));
        }
        let slot = self.slots.clone().acquire_owned().await.map_err(|e| AppError::Internal(e.to_string()))?;
        let stats = self.stats.clone();
        // The work has no await point: once started, dropping the request's future cannot
        // stop it, and the slot stays held until the hash is done.
        self.workers
            .run(async move {
                let _held = (slot, admission);
                let now = stats.running.fetch_add(1, Ordering::SeqCst) + 1;
                stats.peak.fetch_max(now, Ordering::SeqCst);
                let out = work();
                stats.running.fetch_sub(1, Ordering::SeqCst);
                stats.done.fetch_add(1, Ordering::Relaxed);
                Ok(out)
            })
            .await
    }

    pub fn stats(&self) -> GateStats {
        GateStats {
            verified: self.stats.done.load(Ordering::Relaxed),
            refused_busy: self.stats.busy.load(Ordering::Relaxed),
            peak_running: self.stats.peak.load(Ordering::SeqCst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn limits() -> LoginLimits {
        LoginLimits { max_entries: 8, ..LoginLimits::default() }
    }

    fn fail(t: &Throttle, name: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), Throttled> {
        t.begin(name, ip, now).map(|a| t.failed(a))
    }

    #[test]
    fn a_name_is_locked_at_the_fifth_failure_and_unlocked_after_the_lockout() {
        let t = Throttle::new(&limits());
        let t0 = Instant::now();
        for i in 0..5 {
            fail(&t, "clerk", None, t0 + i * MIN).expect("under the limit");
        }
        // Normalised: case and whitespace do not make a new name.
        let refused = t.begin("  CLERK ", None, t0 + 5 * MIN).expect_err("locked");
        assert_eq!(refused.retry_after, 14 * MIN, "locked for 15 minutes from the fifth attempt");
        assert_eq!(refused.retry_after_secs(), 840);
        assert_eq!(refused.message(), "登录失败次数过多，请 14 分钟后再试");
        assert_eq!(refused.audit, vec!["用户名 clerk".to_string()]);
        // Later refusals of the same lock are not audited again.
        assert!(t.begin("clerk", None, t0 + 6 * MIN).expect_err("locked").audit.is_empty());
        // Another name is not affected.
        fail(&t, "other", None, t0 + 6 * MIN).expect("other name");
        // The lock ends 15 minutes after the fifth attempt, with a fresh count.
        let open = t0 + 4 * MIN + 15 * MIN;
        let attempt = t.begin("clerk", None, open).expect("unlocked");
        t.succeeded(attempt);
        assert_eq!(t.entries().0, 1, "the success cleared the name");
        let partial = Duration::from_millis(1500);
        for _ in 0..5 {
            fail(&t, "clerk", None, open).expect("fresh count");
        }
        let refused = t.begin("clerk", None, open + 15 * MIN - partial).expect_err("locked again");
        assert_eq!(refused.retry_after_secs(), 2, "rounded up");
        assert_eq!(refused.message(), "登录失败次数过多，请 1 分钟后再试");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t = Throttle::new(&limits());
        let t0 = Instant::now();
        for i in 0..4 {
            fail(&t, "clerk", None, t0 + i * MIN).expect("under the limit");
        }
        // The window started at the first failure: 16 minutes later the count starts again.
        for i in 0..4 {
            fail(&t, "clerk", None, t0 + 16 * MIN + i * MIN).expect("new window");
        }
        fail(&t, "clerk", None, t0 + 20 * MIN).expect("the fifth locks but is checked");
        assert!(t.begin("clerk", None, t0 + 20 * MIN).is_err());
    }

    #[test]
    fn a_success_clears_the_name_but_not_the_address() {
        let t = Throttle::new(&limits());
        let now = Instant::now();
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        for _ in 0..4 {
            fail(&t, "clerk", Some(ip), now).expect("under the limit");
        }
        t.succeeded(t.begin("clerk", Some(ip), now).expect("fifth"));
        for _ in 0..4 {
            fail(&t, "clerk", Some(ip), now).expect("the name starts again");
        }
        // The address has 8 failures: 12 more (other names) lock it, for every name.
        for i in 0..12 {
            fail(&t, &format!("guess{i}"), Some(ip), now).expect("under the address limit");
        }
        let refused = t.begin("fresh-name", Some(ip), now).expect_err("address locked");
        assert_eq!(refused.audit, vec!["地址 192.0.2.7".to_string()]);
        // Another address may still try a fresh name.
        let elsewhere: IpAddr = "192.0.2.8".parse().expect("ip");
        t.withdraw(t.begin("fresh-name", Some(elsewhere), now).expect("other address"));
    }

    #[test]
    fn withdrawn_attempts_do_not_count_and_unlock() {
        let t = Throttle::new(&limits());
        let now = Instant::now();
        for _ in 0..4 {
            fail(&t, "clerk", None, now).expect("under the limit");
        }
        // The fifth locks when it begins (so parallel attempts cannot slip past) ...
        let fifth = t.begin("clerk", None, now).expect("fifth");
        assert!(t.begin("clerk", None, now).is_err(), "a parallel sixth is refused");
        // ... and withdrawing it (never checked) unlocks again.
        t.withdraw(fifth);
        fail(&t, "clerk", None, now).expect("checked after all");
        assert!(t.begin("clerk", None, now).is_err());
    }

    #[test]
    fn the_tables_stay_bounded_and_keep_locks_longest() {
        let t = Throttle::new(&limits());
        let t0 = Instant::now();
        for _ in 0..5 {
            fail(&t, "victim", None, t0).expect("under the limit");
        }
        // A flood of new names and addresses: the tables never pass their cap ...
        for i in 0..1000u32 {
            let ip = IpAddr::from([10, 0, (i >> 8) as u8, i as u8]);
            fail(&t, &format!("random-{i}"), Some(ip), t0 + Duration::from_millis(u64::from(i))).expect("new");
            let (names, addresses) = t.entries();
            assert!(names <= 8 && addresses <= 8, "{names} names, {addresses} addresses");
        }
        // ... and the locked name was not pushed out by them.
        assert!(t.begin("victim", None, t0 + MIN).is_err(), "the lock survived the flood");
        // Expired entries are dropped first.
        let newcomer = t.begin("newcomer", None, t0 + 31 * MIN).expect("room");
        assert_eq!(t.entries().0, 1, "the expired entries made room");
        t.withdraw(newcomer);
        assert_eq!(t.entries().0, 0);
    }

    #[test]
    fn a_full_table_of_locks_evicts_the_one_nearest_its_end() {
        let t = Throttle::new(&LoginLimits { max_entries: 2, ..LoginLimits::default() });
        let t0 = Instant::now();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            for _ in 0..5 {
                fail(&t, name, None, t0 + MIN * i as u32).expect("under the limit");
            }
        }
        assert_eq!(t.entries().0, 2);
        assert!(t.begin("a", None, t0 + 3 * MIN).is_ok(), "the oldest lock made room");
        assert!(t.begin("c", None, t0 + 3 * MIN).is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(name_key("  Zhang San\t"), "zhangsan");
        assert_eq!(name_key(&"x".repeat(10_000)).len(), 64);
        let v6: IpAddr = "2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().expect("ip");
        assert_eq!(address_key(v6), "2001:db8:1:2::".parse::<IpAddr>().expect("ip"));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().expect("ip"));
    }

    /// A stand-in for a hash: blocks until the test opens the latch.
    #[derive(Clone, Default)]
    struct Latch(Arc<(Mutex<bool>, std::sync::Condvar)>);

    impl Latch {
        fn wait(&self) {
            let (open, changed) = &*self.0;
            let mut open = open.lock().expect("latch");
            while !*open {
                open = changed.wait(open).expect("latch");
            }
        }

        fn open(&self) {
            let (open, changed) = &*self.0;
            *open.lock().expect("latch") = true;
            changed.notify_all();
        }
    }

    async fn until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_bounds_hashing_and_its_queue() {
        let gate = Arc::new(HashGate::new(2, 3));
        let latch = Latch::default();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (gate, latch) = (gate.clone(), latch.clone());
            tasks.push(tokio::spawn(async move { gate.run(move || latch.wait()).await.map_err(|e| e.parts().1) }));
        }
        // Nothing finishes before the latch opens: 2 run, 3 wait, the other 5 are refused.
        until("five refusals", || gate.stats().refused_busy == 5).await;
        until("two running", || gate.stats().peak_running == 2).await;
        latch.open();
        let mut ok = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(()) => ok += 1,
                Err(code) => assert_eq!(code, "login_busy"),
            }
        }
        assert_eq!(ok, 5, "2 running + 3 waiting admitted");
        assert_eq!(gate.stats(), GateStats { verified: 5, refused_busy: 5, peak_running: 2 });
        // The gate is empty again.
        gate.run(|| ()).await.expect("admitted");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_attempt_keeps_its_slot_until_the_hash_is_done() {
        let gate = Arc::new(HashGate::new(1, 0));
        let latch = Latch::default();
        let (g, l) = (gate.clone(), latch.clone());
        let first = tokio::spawn(async move { g.run(move || l.wait()).await });
        until("the first hash to start", || gate.stats().peak_running == 1).await;
        first.abort();
        let _ = first.await;
        let refused = gate.run(|| ()).await.expect_err("still hashing");
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        latch.open();
        until("the first hash to end", || gate.stats().verified == 1).await;
        // The slot is freed just after the work returns.
        let mut again = gate.run(|| ()).await;
        for _ in 0..100 {
            if again.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            again = gate.run(|| ()).await;
        }
        again.expect("free again");
    }
}
