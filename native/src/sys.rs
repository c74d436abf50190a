//! Thread pinning and clocks.

use napi::bindgen_prelude::*;
use napi_derive::napi;

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    // clock_gettime cannot fail for these two clock ids on Linux, so the
    // result needs no check.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

pub fn realtime_ns() -> u64 {
    clock_ns(libc::CLOCK_REALTIME)
}

/// CLOCK_MONOTONIC in nanoseconds: for intervals on this host.
#[napi]
pub fn now_ns() -> BigInt {
    BigInt::from(monotonic_ns())
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch: for stamps compared
/// across hosts (relay one-way latency), as good as the hosts' clock sync.
#[napi]
pub fn wall_ns() -> BigInt {
    BigInt::from(realtime_ns())
}

/// Kernel thread id (what `taskset -cp` takes) of the calling OS thread.
#[napi]
pub fn current_thread_id() -> u32 {
    // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}

pub fn pin_thread(cpu: u32) -> std::result::Result<(), String> {
    // SAFETY: sysconf reads a system value; no memory is passed.
    let ncpu = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    if cpu as i64 >= ncpu.max(1) as i64 || cpu as usize >= libc::CPU_SETSIZE as usize {
        return Err(format!("cpu: {cpu} is not a CPU of this machine (it has {ncpu})"));
    }
    // SAFETY: cpu_set_t is plain bits, so all-zero is a valid (empty) set;
    // CPU_SET stays inside it because cpu < CPU_SETSIZE was checked above;
    // sched_setaffinity only reads `set`, whose size we pass.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        // pid 0 = the calling thread, not the whole process.
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!("cpu: sched_setaffinity({cpu}) failed: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Pins the calling OS thread (the main thread, or the worker thread that
/// calls it) to one CPU and returns its kernel thread id.
#[napi]
pub fn pin_current_thread(cpu: u32) -> Result<u32> {
    pin_thread(cpu).map_err(|e| Error::new(Status::InvalidArg, e))?;
    Ok(current_thread_id())
}

/// CPUs the calling thread may run on.
#[napi]
pub fn current_thread_affinity() -> Result<Vec<u32>> {
    // SAFETY: cpu_set_t is plain bits, so all-zero is valid; the kernel
    // writes at most the size we pass into `set`; CPU_ISSET reads only
    // indices below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(Error::new(Status::GenericFailure, std::io::Error::last_os_error().to_string()));
        }
        Ok((0..libc::CPU_SETSIZE as u32).filter(|&c| libc::CPU_ISSET(c as usize, &set)).collect())
    }
}

/// Where a view's first byte sits within its 64-byte cache line (its address
/// mod 64). Shared buffers come from malloc, which aligns to 16 only: a ring
/// uses this once at creation to start its slots on a line boundary.
#[napi]
pub fn cache_line_offset(view: napi::bindgen_prelude::Uint8Array) -> u32 {
    (view.as_ptr() as usize % 64) as u32
}
