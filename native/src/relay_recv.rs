//! UDP relay receiver: an OS thread of its own receives price packets,
//! decodes them and publishes each one as a 64-byte ExternalPrice event into
//! a `workers/shared-memory/ring.ts` ring living in a SharedArrayBuffer. JavaScript never
//! runs per packet; the main thread drains the ring with the ordinary
//! RingConsumer.
//!
//! Ring protocol. This thread is the ring's producer and follows the
//! contract at the top of workers/shared-memory/ring.ts word for word: it claims the
//! producer role in the header, owns the write sequence, the drop counter
//! and the closed flag, writes slot contents with plain stores and then
//! publishes runs of at most 127 records: the stamp bytes of all but a run's
//! first slot are zeroed, then the first slot's stamp (run length << 1 |
//! lap parity, lap from the low 32 bits of the sequence) is stored
//! sequentially consistent. The write word follows as a relaxed store for
//! monitors (the high word only under its epoch, every 2^32 records). The
//! header word indices below mirror ring.ts and must move with it.
//!
//! Waking. The consumer may park on its parked word with Atomics.wait or
//! Atomics.waitAsync; V8 implements those with its own wait lists, not a
//! futex on the word, so no thread outside the isolate can wake them. The
//! ring's Dekker handshake still works: after each publish this thread loads
//! the parked word, and when it reads 1 it swaps it to 0 (exactly what
//! ring.ts `wake()` does) and asks the JS thread that created the receiver,
//! through a threadsafe function, to run Atomics.notify on that word. That
//! costs one event-loop hop, only on an idle-to-busy transition; a spinning
//! consumer never parks and never pays it.
//!
//! Senders. recvmmsg reports each datagram's source address; one not in the
//! `allow` list is counted (S_FOREIGN) and dropped before it is decoded. An
//! empty list accepts every sender and is refused unless the socket is bound
//! to a loopback address (engine/feeds/relay/allow.ts states the same rule).
//!
//! Admission. Every datagram from an allowed sender goes through gate.rs
//! (structure, MAC, value, crossed, spread, clock window, sequence, stamp
//! order) before it may be published; each refusal is counted in the stats
//! slot of its reason, so packets + the reason slots = datagrams received.
//!
//! Event record (workers/shared-memory/event-layout.ts, EventKind.ExternalPrice):
//!   recvNs   CLOCK_MONOTONIC ns when recvmmsg returned the batch
//!   exchTsMs venue event time, Unix ms (extended frames; NaN for legacy)
//!   seq      frame sequence (extended; NaN for legacy)
//!   size     one-way latency ns: receiver CLOCK_REALTIME at receipt minus
//!            the sender's CLOCK_REALTIME send stamp (negative if the clocks
//!            disagree by more than the path)
//!   aux0     bid, aux1 ask: the float64 values of the packet, bit for bit
//!   kind 7, flags LastInMessage, source (u8) from the options,
//!   byte 51  the ring's stamp, written last
//!   token    extended `stream` (0 for legacy)
//!   price    send stamp, whole Unix seconds (u32 in the i32 word)
//!   price2   send stamp, nanoseconds within that second

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::gate::{Admission, GateParams, Reason, DEFAULT_MAX_SKEW_MS, DEFAULT_MAX_SPREAD_BPS};
use crate::mac::MacKey;
use crate::packet::{EXTENDED_MAC_LEN, FORMAT_EXTENDED};
use crate::sys::{monotonic_ns, pin_thread, realtime_ns};

// Ring header (Int32 word indices) as laid out in workers/shared-memory/ring.ts.
const RING_MAGIC: i32 = 0x5249_4e47;
const RING_VERSION: i32 = 3;
const H_MAGIC: usize = 0;
const H_VERSION: usize = 1;
const H_CAPACITY: usize = 2;
const H_RECORD_BYTES: usize = 3;
const H_POLICY: usize = 4;
const H_PRODUCER_ROLE: usize = 5;
const H_STAMP_BYTE: usize = 7;
const H_WRITE: usize = 32;
const H_DROPS: usize = 35;
const H_READ: usize = 64;
const H_CONSUMER_PARKED: usize = 96;
const H_CLOSED: usize = 104;
const LO: usize = 0;
const HI: usize = 1;
const EPOCH: usize = 2;
const HEADER_BYTES: usize = 512;
/// Word 0 of the buffer holds the header's byte offset (within these lead
/// bytes), chosen by ring.ts so the header and slots start on a cache line.
const LEAD_BYTES: usize = 64;
const POLICY_DROP: i32 = 1;

// Event record (workers/shared-memory/event-layout.ts).
const EVENT_BYTES: usize = 64;
const OFF_RECV_NS: usize = 0;
const OFF_EXCH_TS_MS: usize = 8;
const OFF_SEQ: usize = 16;
const OFF_SIZE: usize = 24;
const OFF_AUX0: usize = 32;
const OFF_AUX1: usize = 40;
const OFF_KIND: usize = 48;
const OFF_FLAGS: usize = 49;
const OFF_SOURCE: usize = 50;
const OFF_STAMP: usize = 51;
/// Longest run one stamp publishes (7 bits of the stamp byte).
const MAX_RUN: u64 = 127;
const OFF_TOKEN: usize = 52;
const OFF_PRICE: usize = 56;
const OFF_PRICE2: usize = 60;
const KIND_EXTERNAL_PRICE: u8 = 7;
const FLAG_LAST_IN_MESSAGE: u8 = 4;

/// Every ring and event constant above, by the name workers/shared-memory/ring.ts
/// (RING_LAYOUT) and workers/shared-memory/event-layout.ts give it (event fields as byte
/// offsets): engine/feeds/relay/ring-layout.test.ts compares the compiled values
/// with the TypeScript ones, so a layout change on either side that the other
/// does not follow fails a test instead of corrupting the ring. Add each new
/// constant here.
const LAYOUT: &[(&str, i64)] = &[
    ("RING_MAGIC", RING_MAGIC as i64),
    ("RING_VERSION", RING_VERSION as i64),
    ("H_MAGIC", H_MAGIC as i64),
    ("H_VERSION", H_VERSION as i64),
    ("H_CAPACITY", H_CAPACITY as i64),
    ("H_RECORD_BYTES", H_RECORD_BYTES as i64),
    ("H_POLICY", H_POLICY as i64),
    ("H_PRODUCER_ROLE", H_PRODUCER_ROLE as i64),
    ("H_STAMP_BYTE", H_STAMP_BYTE as i64),
    ("H_WRITE", H_WRITE as i64),
    ("H_DROPS", H_DROPS as i64),
    ("H_READ", H_READ as i64),
    ("H_CONSUMER_PARKED", H_CONSUMER_PARKED as i64),
    ("H_CLOSED", H_CLOSED as i64),
    ("LO", LO as i64),
    ("HI", HI as i64),
    ("EPOCH", EPOCH as i64),
    ("HEADER_BYTES", HEADER_BYTES as i64),
    ("LEAD_BYTES", LEAD_BYTES as i64),
    ("POLICY_DROP", POLICY_DROP as i64),
    ("MAX_RUN", MAX_RUN as i64),
    ("EVENT_BYTES", EVENT_BYTES as i64),
    ("OFF_RECV_NS", OFF_RECV_NS as i64),
    ("OFF_EXCH_TS_MS", OFF_EXCH_TS_MS as i64),
    ("OFF_SEQ", OFF_SEQ as i64),
    ("OFF_SIZE", OFF_SIZE as i64),
    ("OFF_AUX0", OFF_AUX0 as i64),
    ("OFF_AUX1", OFF_AUX1 as i64),
    ("OFF_KIND", OFF_KIND as i64),
    ("OFF_FLAGS", OFF_FLAGS as i64),
    ("OFF_SOURCE", OFF_SOURCE as i64),
    ("OFF_STAMP", OFF_STAMP as i64),
    ("OFF_TOKEN", OFF_TOKEN as i64),
    ("OFF_PRICE", OFF_PRICE as i64),
    ("OFF_PRICE2", OFF_PRICE2 as i64),
    ("KIND_EXTERNAL_PRICE", KIND_EXTERNAL_PRICE as i64),
    ("FLAG_LAST_IN_MESSAGE", FLAG_LAST_IN_MESSAGE as i64),
];

/// The ring and event constants this build writes with, as [name, value]
/// pairs (see LAYOUT).
#[napi]
pub fn relay_ring_layout() -> Vec<(String, i64)> {
    LAYOUT.iter().map(|&(k, v)| (k.to_string(), v)).collect()
}

/// Counter slots of the stats Float64Array (engine/feeds/relay/source.ts mirrors
/// them). Single writer: this thread, once per received batch. Every
/// datagram lands in exactly one of packets, garbage, late, foreign, value,
/// crossed, spread, skew, backwards, mac.
pub const S_PACKETS: usize = 0;
pub const S_GARBAGE: usize = 1;
pub const S_LOST: usize = 2;
pub const S_LATE: usize = 3;
pub const S_LAST_SEQ: usize = 4;
pub const S_LEGACY: usize = 5;
pub const S_BYTES: usize = 6;
pub const S_RECV_ERRORS: usize = 7;
pub const S_RESTARTS: usize = 8;
pub const S_RING_DROPS: usize = 9;
pub const S_WAKES: usize = 10;
pub const S_BATCHES: usize = 11;
pub const S_RUNNING: usize = 12;
pub const S_FOREIGN: usize = 13;
pub const S_VALUE: usize = 14;
pub const S_CROSSED: usize = 15;
pub const S_SPREAD: usize = 16;
pub const S_SKEW: usize = 17;
pub const S_BACKWARDS: usize = 18;
pub const S_MAC: usize = 19;
pub const STATS_SLOTS: usize = 24;

fn reason_slot(r: Reason) -> usize {
    match r {
        Reason::Malformed => S_GARBAGE,
        Reason::Mac => S_MAC,
        Reason::Value => S_VALUE,
        Reason::Crossed => S_CROSSED,
        Reason::Spread => S_SPREAD,
        Reason::Skew => S_SKEW,
        Reason::Late => S_LATE,
        Reason::Backwards => S_BACKWARDS,
    }
}

/// recvmmsg batch: datagrams taken from the socket per system call.
const BATCH: usize = 64;
/// Receive buffer per datagram: larger than any valid packet (88 B), so an
/// oversized datagram shows as MSG_TRUNC and is counted as garbage.
const DGRAM_BUF: usize = 128;
const _: () = assert!(DGRAM_BUF > EXTENDED_MAC_LEN);
/// Room for any source address recvmmsg reports (IPv4 or IPv6).
const NAME_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
/// A blocking receive wakes this often to notice stop().
const RECV_TIMEOUT: Duration = Duration::from_millis(50);

type WakeFn = ThreadsafeFunction<(), (), (), Status, false>;

/// The producer end of a workers/shared-memory/ring.ts ring, over raw SAB memory.
struct RingWriter {
    base: *mut u8,
    capacity: u64,
    mask: u64,
    lap_shift: u32,
    dropping: bool,
    write_seq: u64,
    read_seq: u64,
    drops: u64,
}

// SAFETY: `base` points into a SharedArrayBuffer that outlives the thread:
// RelayReceiver holds a napi reference to it (`_ring`) and joins the thread
// before releasing that reference. The memory is shared with JS by design;
// every word other threads read or write is accessed through atomics, and
// slot bytes are written only while unpublished (owned by the producer,
// which this struct is the only one of: attach() claims the producer role).
unsafe impl Send for RingWriter {}

impl RingWriter {
    fn attach(buffer: *mut u8, len: usize) -> std::result::Result<Self, String> {
        if len < LEAD_BYTES + HEADER_BYTES || (buffer as usize) % 8 != 0 {
            return Err(format!("ring: a {len} B buffer cannot hold a ring header"));
        }
        // SAFETY: word 0 is in bounds (len >= LEAD_BYTES + HEADER_BYTES was
        // checked) and 4-aligned (buffer is 8-aligned, checked); the memory
        // is a live SAB that JS may write concurrently, hence an atomic load.
        let header_at = unsafe { &*(buffer as *const AtomicI32) }.load(Ordering::SeqCst);
        if !(8..=LEAD_BYTES as i32).contains(&header_at) || header_at % 8 != 0 {
            return Err("ring: buffer is not a ring (bad header offset)".into());
        }
        let header_at = header_at as usize;
        // From here on `base` is the header: word i at base + 4i, slot s at base + HEADER_BYTES + 64s.
        // SAFETY: header_at <= LEAD_BYTES < len (checked above), so the
        // offset pointer stays inside the buffer.
        let base = unsafe { buffer.add(header_at) };
        let probe = RingWriter { base, capacity: 0, mask: 0, lap_shift: 0, dropping: false, write_seq: 0, read_seq: 0, drops: 0 };
        if probe.word(H_MAGIC).load(Ordering::SeqCst) != RING_MAGIC {
            return Err("ring: buffer is not a ring (bad magic)".into());
        }
        if probe.word(H_VERSION).load(Ordering::SeqCst) != RING_VERSION {
            return Err("ring: layout version differs from this build".into());
        }
        let capacity = probe.word(H_CAPACITY).load(Ordering::SeqCst);
        let record = probe.word(H_RECORD_BYTES).load(Ordering::SeqCst);
        if capacity < 2 || (capacity & (capacity - 1)) != 0 {
            return Err(format!("ring: capacity {capacity} is not a power of two"));
        }
        if record as usize != EVENT_BYTES {
            return Err(format!("ring: records are {record} B, relay events need {EVENT_BYTES} B"));
        }
        if probe.word(H_STAMP_BYTE).load(Ordering::SeqCst) as usize != OFF_STAMP {
            return Err(format!("ring: stamp byte is not byte {OFF_STAMP} of the event record"));
        }
        if len != LEAD_BYTES + HEADER_BYTES + capacity as usize * EVENT_BYTES {
            return Err(format!("ring: header says {capacity} x {record} B but the buffer is {len} B"));
        }
        if probe.word(H_PRODUCER_ROLE).compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Err("ring: the producer role is already taken".into());
        }
        let mut w = RingWriter {
            capacity: capacity as u64,
            mask: capacity as u64 - 1,
            lap_shift: capacity.trailing_zeros(),
            dropping: probe.word(H_POLICY).load(Ordering::SeqCst) == POLICY_DROP,
            ..probe
        };
        w.write_seq = w.load_counter(H_WRITE);
        w.read_seq = w.load_counter(H_READ);
        w.drops = w.load_counter(H_DROPS);
        Ok(w)
    }

    fn word(&self, i: usize) -> &AtomicI32 {
        // SAFETY: every caller passes a header word index (the H_* consts,
        // plus LO/HI/EPOCH) below 128, so the word lies in the 512-byte
        // header that attach() checked fits the buffer; base is 8-aligned
        // (header_at % 8 == 0 on an 8-aligned buffer), so base + 4i is
        // 4-aligned for AtomicI32; the SAB outlives self (see Send above).
        unsafe { &*(self.base.add(i * 4) as *const AtomicI32) }
    }

    fn load_counter(&self, at: usize) -> u64 {
        loop {
            let e = self.word(at + EPOCH).load(Ordering::SeqCst);
            if e & 1 == 0 {
                let hi = self.word(at + HI).load(Ordering::SeqCst) as u32 as u64;
                let lo = self.word(at + LO).load(Ordering::SeqCst) as u32 as u64;
                if self.word(at + EPOCH).load(Ordering::SeqCst) == e {
                    return (hi << 32) | lo;
                }
            }
            std::hint::spin_loop();
        }
    }

    fn store_counter(&self, at: usize, v: u64) {
        self.word(at + EPOCH).fetch_add(1, Ordering::SeqCst);
        self.word(at + HI).store((v >> 32) as u32 as i32, Ordering::SeqCst);
        self.word(at + LO).store(v as u32 as i32, Ordering::SeqCst);
        self.word(at + EPOCH).fetch_add(1, Ordering::SeqCst);
    }

    /// Whether a slot is free beyond `pending` unpublished ones; re-reads
    /// the consumer's position only when the cached one says no.
    fn has_room(&mut self, pending: u64) -> bool {
        if self.capacity - (self.write_seq - self.read_seq) > pending {
            return true;
        }
        let read_lo = self.word(H_READ + LO).load(Ordering::SeqCst) as u32;
        self.read_seq = self.write_seq - (self.write_seq as u32).wrapping_sub(read_lo) as u64;
        self.capacity - (self.write_seq - self.read_seq) > pending
    }

    /// Start of the i-th unpublished slot.
    fn slot(&self, i: u64) -> *mut u8 {
        let s = (self.write_seq + i) & self.mask;
        // SAFETY: s <= mask < capacity, and attach() checked the buffer holds
        // the header plus capacity 64-byte slots, so the pointer stays inside.
        unsafe { self.base.add(HEADER_BYTES + s as usize * EVENT_BYTES) }
    }

    fn publish(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        let stamp_at = |seq: u64| HEADER_BYTES + (seq & self.mask) as usize * EVENT_BYTES + OFF_STAMP;
        let mut first = self.write_seq;
        let mut left = n;
        while left > 0 {
            let run = left.min(MAX_RUN);
            // SAFETY (both stamp stores below): stamp_at masks the sequence
            // to a slot below capacity, and the slot's stamp byte lies in the
            // buffer attach() checked; AtomicU8 needs no alignment; the
            // consumer reads stamps concurrently, hence atomic stores.
            for i in 1..run {
                unsafe { &*(self.base.add(stamp_at(first + i)) as *const AtomicU8) }.store(0, Ordering::Relaxed);
            }
            let parity = ((first as u32) >> self.lap_shift) & 1;
            let stamp = ((run as u32) << 1 | parity) as u8;
            unsafe { &*(self.base.add(stamp_at(first)) as *const AtomicU8) }.store(stamp, Ordering::SeqCst);
            first += run;
            left -= run;
        }
        let before = self.write_seq;
        self.write_seq += n;
        if before >> 32 == self.write_seq >> 32 {
            self.word(H_WRITE + LO).store(self.write_seq as u32 as i32, Ordering::Relaxed);
        } else {
            self.store_counter(H_WRITE, self.write_seq);
        }
    }

    fn count_drop(&mut self) {
        let before = self.drops;
        self.drops += 1;
        if before >> 32 == self.drops >> 32 {
            self.word(H_DROPS + LO).store(self.drops as u32 as i32, Ordering::SeqCst);
        } else {
            self.store_counter(H_DROPS, self.drops);
        }
    }

    /// ring.ts wake(): true when a parked consumer must be notified.
    fn take_parked(&self) -> bool {
        let w = self.word(H_CONSUMER_PARKED);
        w.load(Ordering::SeqCst) != 0 && w.compare_exchange(1, 0, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    fn release_role(&self) {
        self.word(H_PRODUCER_ROLE).store(0, Ordering::SeqCst);
    }

    /// ring.ts close() then detach(): the consumer drains what was published, then sees `closed`.
    fn close(&self) {
        self.word(H_CLOSED).store(1, Ordering::SeqCst);
        self.release_role();
    }
}

/// The sender addresses a receiver accepts, parsed once so the check per
/// datagram compares integers and allocates nothing. IPv4-mapped IPv6
/// entries and sources (a dual-stack socket's IPv4 senders) are compared as
/// IPv4.
struct AllowList {
    /// Empty list: every sender (only allowed on a loopback bind).
    any: bool,
    /// Addresses as `sin_addr.s_addr` holds them (network byte order in memory).
    v4: Vec<u32>,
    v6: Vec<[u8; 16]>,
}

impl AllowList {
    fn parse(entries: &[String]) -> std::result::Result<Self, String> {
        let mut list = AllowList { any: entries.is_empty(), v4: Vec::new(), v6: Vec::new() };
        for (i, e) in entries.iter().enumerate() {
            let ip: IpAddr = e.parse().map_err(|_| format!("allow[{i}]: {e:?} is not an IPv4 or IPv6 address"))?;
            match ip {
                IpAddr::V4(a) => list.v4.push(u32::from_ne_bytes(a.octets())),
                IpAddr::V6(a) => match a.to_ipv4_mapped() {
                    Some(m) => list.v4.push(u32::from_ne_bytes(m.octets())),
                    None => list.v6.push(a.octets()),
                },
            }
        }
        Ok(list)
    }

    /// Whether the source address the kernel wrote for one datagram is allowed.
    fn admits(&self, name: &libc::sockaddr_storage, len: libc::socklen_t) -> bool {
        if self.any {
            return true;
        }
        let len = len as usize;
        match name.ss_family as i32 {
            libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: sockaddr_storage is large enough and aligned for
                // every sockaddr type, the family says the kernel wrote a
                // sockaddr_in, and len covers it (matched above).
                let sin = unsafe { &*(name as *const libc::sockaddr_storage as *const libc::sockaddr_in) };
                self.v4.contains(&sin.sin_addr.s_addr)
            }
            libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as for AF_INET, with sockaddr_in6.
                let sin6 = unsafe { &*(name as *const libc::sockaddr_storage as *const libc::sockaddr_in6) };
                let b = &sin6.sin6_addr.s6_addr;
                if b[..10] == [0u8; 10] && b[10] == 0xff && b[11] == 0xff {
                    self.v4.contains(&u32::from_ne_bytes([b[12], b[13], b[14], b[15]]))
                } else {
                    self.v6.contains(b)
                }
            }
            _ => false,
        }
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
    }
}

/// # Safety
/// `p + off .. p + off + 8` must be writable memory no other thread accesses
/// meanwhile (an unpublished ring slot). No alignment is required.
unsafe fn put_f64(p: *mut u8, off: usize, v: f64) {
    // SAFETY: the caller's contract above.
    std::ptr::write_unaligned(p.add(off) as *mut f64, v);
}

/// # Safety
/// As put_f64, for 4 bytes.
unsafe fn put_i32(p: *mut u8, off: usize, v: i32) {
    // SAFETY: the caller's contract above.
    std::ptr::write_unaligned(p.add(off) as *mut i32, v);
}

/// Counters kept in the thread and copied to the shared stats array per batch.
struct Counters {
    slots: [f64; STATS_SLOTS],
    stats: *mut u8,
}

// SAFETY: `stats` points into a SharedArrayBuffer that RelayReceiver keeps
// alive (`_stats`) until after it joins the thread; the thread is the only
// writer, and JS readers only load whole 64-bit values (see flush()).
unsafe impl Send for Counters {}

impl Counters {
    fn add(&mut self, slot: usize, v: f64) {
        self.slots[slot] += v;
    }

    fn flush(&self) {
        for (i, v) in self.slots.iter().enumerate() {
            // SAFETY: i < STATS_SLOTS and the constructor checked the array
            // has at least STATS_SLOTS f64 slots, so the 8 bytes are in
            // bounds; a Float64Array's data is 8-aligned, as AtomicU64
            // needs. Relaxed stores: readers see whole values, possibly one
            // batch old.
            unsafe { (*(self.stats.add(i * 8) as *const AtomicU64)).store(v.to_bits(), Ordering::Relaxed) };
        }
    }
}

struct Loop {
    sock: UdpSocket,
    ring: RingWriter,
    counters: Counters,
    spin: bool,
    source: u8,
    allow: AllowList,
    stop: Arc<AtomicBool>,
    wake: Option<WakeFn>,
    admission: Admission,
}

impl Loop {
    fn run(mut self) {
        let fd = self.sock.as_raw_fd();
        let mut bufs = vec![[0u8; DGRAM_BUF]; BATCH];
        let mut iovs: Vec<libc::iovec> = bufs
            .iter_mut()
            .map(|b| libc::iovec { iov_base: b.as_mut_ptr() as *mut libc::c_void, iov_len: DGRAM_BUF })
            .collect();
        // SAFETY: sockaddr_storage and mmsghdr are plain C structs for which
        // all-zero bytes are valid (null pointers, zero lengths).
        let mut names: Vec<libc::sockaddr_storage> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
        // SAFETY: as above.
        let mut msgs: Vec<libc::mmsghdr> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
        for ((m, iov), name) in msgs.iter_mut().zip(iovs.iter_mut()).zip(names.iter_mut()) {
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            m.msg_hdr.msg_name = name as *mut libc::sockaddr_storage as *mut libc::c_void;
        }
        self.counters.slots[S_LAST_SEQ] = f64::NAN;
        self.counters.slots[S_RUNNING] = 1.0;
        self.counters.flush();
        // Idle, a call asks for one datagram (blocking, or one non-blocking
        // poll when spinning), so the first packet after a quiet spell is
        // published without an extra receive attempt in front of it. Once
        // data flows, calls take whole batches without waiting, until the
        // queue is empty again.
        let mut busy = false;
        while !self.stop.load(Ordering::Relaxed) {
            let (vlen, flags) = match (busy, self.spin) {
                (true, _) => (BATCH, libc::MSG_DONTWAIT),
                (false, true) => (1, libc::MSG_DONTWAIT),
                (false, false) => (1, 0),
            };
            // The kernel overwrites msg_namelen with each source's length.
            for m in msgs.iter_mut().take(vlen) {
                m.msg_hdr.msg_namelen = NAME_LEN;
            }
            // SAFETY: msgs holds BATCH headers and vlen <= BATCH; each
            // points at its own iovec (one DGRAM_BUF buffer in `bufs`) and
            // its own sockaddr_storage in `names`, with namelen reset just
            // above; bufs, iovs and names are neither moved nor resized while
            // the loop runs, so every pointer the kernel writes through is
            // valid; fd is the open socket `self.sock` owns.
            let n = unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), vlen as u32, flags, std::ptr::null_mut()) };
            if n <= 0 {
                busy = false;
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                if n < 0 && errno != libc::EAGAIN && errno != libc::EWOULDBLOCK && errno != libc::EINTR {
                    self.counters.add(S_RECV_ERRORS, 1.0);
                    self.counters.flush();
                    // A persistent error must not become a hot loop.
                    std::thread::sleep(Duration::from_millis(1));
                } else if self.spin {
                    std::hint::spin_loop();
                }
                continue;
            }
            busy = n as usize == vlen;
            let mono = monotonic_ns();
            let wall = realtime_ns();
            let mut pending = 0u64;
            for (m, b) in msgs.iter().zip(bufs.iter()).take(n as usize) {
                let len = (m.msg_len as usize).min(DGRAM_BUF);
                self.counters.add(S_BYTES, len as f64);
                // SAFETY: msg_name was set to this header's element of
                // `names` (aligned, initialised, alive for the loop); the
                // kernel just filled it and nothing else writes it now.
                let name = unsafe { &*(m.msg_hdr.msg_name as *const libc::sockaddr_storage) };
                if !self.allow.admits(name, m.msg_hdr.msg_namelen) {
                    self.counters.add(S_FOREIGN, 1.0);
                    continue;
                }
                if m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                    self.counters.add(S_GARBAGE, 1.0);
                    continue;
                }
                let p = match self.admission.admit(&b[..len], wall) {
                    Ok(p) => p,
                    Err(why) => {
                        self.counters.add(reason_slot(why), 1.0);
                        continue;
                    }
                };
                let extended = p.format == FORMAT_EXTENDED;
                if !extended {
                    self.counters.add(S_LEGACY, 1.0);
                }
                self.counters.add(S_PACKETS, 1.0);
                if !self.ring.has_room(pending) {
                    // Publish what is written so the consumer can make room.
                    self.ring.publish(pending);
                    pending = 0;
                    if !self.wait_for_space() {
                        continue;
                    }
                }
                let slot = self.ring.slot(pending);
                let latency = (wall as i128 - p.send_ts_ns as i128) as f64;
                // SAFETY: `slot` is the start of an in-bounds 64-byte slot
                // (RingWriter::slot) that has_room() proved free and that is
                // not yet published, so the consumer does not read it; every
                // offset + width written is <= 64.
                unsafe {
                    put_f64(slot, OFF_RECV_NS, mono as f64);
                    put_f64(slot, OFF_EXCH_TS_MS, if extended && p.exchange_ts_ns != 0 { p.exchange_ts_ns as f64 / 1e6 } else { f64::NAN });
                    put_f64(slot, OFF_SEQ, if extended { p.seq as f64 } else { f64::NAN });
                    put_f64(slot, OFF_SIZE, latency);
                    put_f64(slot, OFF_AUX0, p.bid);
                    put_f64(slot, OFF_AUX1, p.ask);
                    *slot.add(OFF_KIND) = KIND_EXTERNAL_PRICE;
                    *slot.add(OFF_FLAGS) = FLAG_LAST_IN_MESSAGE;
                    *slot.add(OFF_SOURCE) = self.source;
                    put_i32(slot, OFF_TOKEN, p.stream as i32);
                    put_i32(slot, OFF_PRICE, (p.send_ts_ns / 1_000_000_000) as u32 as i32);
                    put_i32(slot, OFF_PRICE2, (p.send_ts_ns % 1_000_000_000) as i32);
                }
                pending += 1;
            }
            self.ring.publish(pending);
            if self.ring.take_parked() {
                if let Some(w) = &self.wake {
                    w.call((), ThreadsafeFunctionCallMode::NonBlocking);
                    self.counters.add(S_WAKES, 1.0);
                }
            }
            self.counters.add(S_BATCHES, 1.0);
            self.counters.slots[S_RING_DROPS] = self.ring.drops as f64;
            self.counters.slots[S_LOST] = self.admission.lost as f64;
            self.counters.slots[S_RESTARTS] = self.admission.restarts as f64;
            self.counters.slots[S_LAST_SEQ] = self.admission.last_accepted_seq.map_or(f64::NAN, |s| s as f64);
            self.counters.flush();
        }
        self.ring.close();
        if self.ring.take_parked() {
            if let Some(w) = &self.wake {
                w.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
        self.counters.slots[S_RUNNING] = 0.0;
        self.counters.flush();
    }

    /// Full ring: `drop` counts the record and returns false; `block` waits
    /// for the consumer (the socket buffer absorbs the stall) unless stopped.
    fn wait_for_space(&mut self) -> bool {
        if self.ring.dropping {
            self.ring.count_drop();
            return false;
        }
        let mut spins = 0u32;
        while !self.ring.has_room(0) {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            // A parked consumer would never come back for the data.
            if self.ring.take_parked() {
                if let Some(w) = &self.wake {
                    w.call((), ThreadsafeFunctionCallMode::NonBlocking);
                }
            }
            spins += 1;
            if spins < 1000 {
                std::hint::spin_loop();
            } else {
                std::thread::sleep(Duration::from_micros(20));
            }
        }
        true
    }
}

fn setsockopt_int(fd: i32, level: i32, name: i32, v: i32) -> bool {
    // SAFETY: the kernel reads exactly size_of::<i32>() bytes from `&v`,
    // which is valid for the call; a bad fd or option only returns an error.
    unsafe {
        libc::setsockopt(fd, level, name, &v as *const i32 as *const libc::c_void, std::mem::size_of::<i32>() as libc::socklen_t) == 0
    }
}

fn getsockopt_int(fd: i32, level: i32, name: i32) -> i32 {
    let mut v: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid and writable for the call, and len
    // tells the kernel it may write at most size_of::<i32>() bytes into v.
    let ok = unsafe { libc::getsockopt(fd, level, name, &mut v as *mut i32 as *mut libc::c_void, &mut len) == 0 };
    if ok {
        v
    } else {
        0
    }
}

#[napi(object)]
pub struct RelayReceiverOptions {
    /// "ADDR:PORT" (IPv4, or [IPv6]:PORT); port 0 picks a free port.
    pub bind: String,
    /// CPU to pin the receive thread to.
    pub cpu: Option<u32>,
    /// Busy-poll the socket without sleeping (one core at 100 %) instead of
    /// blocking in the kernel.
    pub spin: Option<bool>,
    /// SO_BUSY_POLL in microseconds (0 = leave it off). Default 50.
    pub busy_poll_us: Option<u32>,
    /// Requested SO_RCVBUF in bytes (SO_RCVBUFFORCE when privileged). Default 8 MiB.
    pub rcvbuf_bytes: Option<u32>,
    /// Event `source` id written into every record. Default 0.
    pub source: Option<u32>,
    /// Sender IP addresses accepted; datagrams from any other source are
    /// dropped (stats slot 13, foreign). Empty or absent accepts every
    /// sender, which only a loopback `bind` may do.
    pub allow: Option<Vec<String>>,
    /// Widest spread accepted, basis points of the mid. Default 50.
    pub max_spread_bps: Option<f64>,
    /// Furthest a send stamp may be from this host's
    /// CLOCK_REALTIME, either way, in ms. Default 1000.
    pub max_skew_ms: Option<u32>,
    /// Environment variable holding the hex MAC key (read here, never
    /// passed through JS). Absent: no key, sealed frames are refused.
    pub mac_key_env: Option<String>,
    /// Refuse every datagram without a valid MAC (legacy packets included).
    pub require_mac: Option<bool>,
}

/// A running receive thread. Call stop() to end it; dropping the object
/// (garbage collection) stops it too.
#[napi]
pub struct RelayReceiver {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    local: String,
    rcvbuf: u32,
    busy_poll: u32,
    tid: u32,
    // Keep the shared memory alive for as long as the thread can touch it.
    _ring: Uint8Array,
    _stats: Float64Array,
}

#[napi]
impl RelayReceiver {
    /// Binds the socket, attaches to the ring as its producer and starts the
    /// thread; returns once the thread is pinned and receiving. `ring` views
    /// the whole SAB of a workers/shared-memory/ring.ts ring with 64-byte records; `stats`
    /// has at least 24 slots over a SharedArrayBuffer; `wake` runs
    /// Atomics.notify on the ring's consumer-parked word.
    #[napi(constructor)]
    pub fn new(options: RelayReceiverOptions, ring: Uint8Array, stats: Float64Array, wake: Option<ThreadsafeFunction<(), (), (), Status, false>>) -> Result<Self> {
        let invalid = |m: String| Error::new(Status::InvalidArg, m);
        let addr: SocketAddr = options.bind.parse().map_err(|_| invalid(format!("bind: {:?} is not ADDR:PORT", options.bind)))?;
        if stats.len() < STATS_SLOTS {
            return Err(invalid(format!("stats: needs at least {STATS_SLOTS} slots")));
        }
        if let Some(cpu) = options.cpu {
            // SAFETY: sysconf reads a system value; no memory is passed.
            let ncpu = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
            if cpu as i64 >= ncpu.max(1) as i64 {
                return Err(invalid(format!("cpu: {cpu} is not a CPU of this machine (it has {ncpu})")));
            }
        }
        let source = options.source.unwrap_or(0);
        if source > u8::MAX as u32 {
            return Err(invalid(format!("source: {source} does not fit the record's source byte (0..=255)")));
        }
        let allow = AllowList::parse(options.allow.as_deref().unwrap_or(&[])).map_err(invalid)?;
        if allow.any && !is_loopback(addr.ip()) {
            return Err(invalid(format!(
                "allow: empty, and bind {addr} is not a loopback address: any host that can reach it could inject prices"
            )));
        }
        let max_spread_bps = options.max_spread_bps.unwrap_or(DEFAULT_MAX_SPREAD_BPS);
        if !(max_spread_bps.is_finite() && max_spread_bps >= 0.0) {
            return Err(invalid(format!("maxSpreadBps: must be a finite number >= 0, got {max_spread_bps}")));
        }
        let max_skew_ms = options.max_skew_ms.unwrap_or(DEFAULT_MAX_SKEW_MS);
        if max_skew_ms == 0 {
            return Err(invalid("maxSkewMs: must be at least 1".into()));
        }
        let key = match &options.mac_key_env {
            Some(var) => Some(MacKey::from_env(var).map_err(|e| invalid(format!("macKeyEnv: {e}")))?),
            None => None,
        };
        let require_mac = options.require_mac.unwrap_or(false);
        if require_mac && key.is_none() {
            return Err(invalid("requireMac: needs macKeyEnv, the variable holding the key".into()));
        }
        let params = GateParams { max_spread_bps, max_skew_ns: max_skew_ms as u64 * 1_000_000, require_mac };
        let ring_ptr = ring.as_ptr() as *mut u8;
        let writer = RingWriter::attach(ring_ptr, ring.len()).map_err(invalid)?;
        let fail = |w: &RingWriter, m: String| {
            w.release_role();
            Error::new(Status::GenericFailure, m)
        };
        let sock = match UdpSocket::bind(addr) {
            Ok(s) => s,
            Err(e) => return Err(fail(&writer, format!("bind {addr}: {e}"))),
        };
        let fd = sock.as_raw_fd();
        let want_buf = options.rcvbuf_bytes.unwrap_or(8 << 20).min(i32::MAX as u32 / 2) as i32;
        if !setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, want_buf) {
            setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, want_buf);
        }
        // The kernel reports twice the payload budget it granted (bookkeeping overhead).
        let rcvbuf = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF).max(0) as u32;
        let want_poll = options.busy_poll_us.unwrap_or(50).min(i32::MAX as u32) as i32;
        if want_poll > 0 {
            setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_BUSY_POLL, want_poll);
        }
        let busy_poll = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_BUSY_POLL).max(0) as u32;
        let spin = options.spin.unwrap_or(false);
        let setup = if spin { sock.set_nonblocking(true) } else { sock.set_read_timeout(Some(RECV_TIMEOUT)) };
        if let Err(e) = setup {
            return Err(fail(&writer, format!("socket setup: {e}")));
        }
        let local = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Counters { slots: [0.0; STATS_SLOTS], stats: stats.as_ptr() as *mut u8 };
        let lp = Loop {
            sock,
            ring: writer,
            counters,
            spin,
            source: source as u8,
            allow,
            stop: stop.clone(),
            wake,
            admission: Admission::new(params, key),
        };
        let (tx, rx) = mpsc::channel::<std::result::Result<u32, String>>();
        let cpu = options.cpu;
        let thread = std::thread::Builder::new()
            .name("relay-recv".into())
            .spawn(move || {
                if let Some(c) = cpu {
                    if let Err(e) = pin_thread(c) {
                        lp.ring.release_role();
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
                let _ = tx.send(Ok(unsafe { libc::syscall(libc::SYS_gettid) as u32 }));
                lp.run();
            })
            .map_err(|e| Error::new(Status::GenericFailure, format!("spawn relay thread: {e}")))?;
        let tid = match rx.recv() {
            Ok(Ok(tid)) => tid,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(invalid(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Error::new(Status::GenericFailure, "relay thread exited during start-up"));
            }
        };
        Ok(RelayReceiver { stop, thread: Some(thread), local, rcvbuf, busy_poll, tid, _ring: ring, _stats: stats })
    }

    /// Ends the thread (within 50 ms when blocking), closes the ring and the
    /// socket. Idempotent.
    #[napi]
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The bound address, e.g. "10.0.0.2:9000" (the real port when bound to 0).
    #[napi(getter)]
    pub fn local_address(&self) -> String {
        self.local.clone()
    }

    /// SO_RCVBUF as the kernel reports it (twice the payload budget).
    #[napi(getter)]
    pub fn rcvbuf_bytes(&self) -> u32 {
        self.rcvbuf
    }

    /// SO_BUSY_POLL in effect, microseconds; 0 when the kernel refused it.
    #[napi(getter)]
    pub fn busy_poll_us(&self) -> u32 {
        self.busy_poll
    }

    /// Kernel thread id of the receive thread (for taskset / ps -L).
    #[napi(getter)]
    pub fn thread_id(&self) -> u32 {
        self.tid
    }
}

impl Drop for RelayReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}
