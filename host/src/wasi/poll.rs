//! `poll_oneoff`: waiting for clocks and descriptors. Files and standard
//! streams are always ready; a wait for a clock sleeps on the host (or
//! moves a virtual clock on) and stops early, with an `Interrupted` trap,
//! when the store is interrupted or its timeout passes.

use super::ctx::{CLOCK_MONOTONIC, CLOCK_REALTIME, WasiCtx};
use super::errno::{Errno, WasiResult};
use super::memory::GuestMemory;
use crate::{Caller, Trap, TrapCode};
use std::time::{Duration, Instant};

const SUBSCRIPTION_SIZE: u32 = 48;
const EVENT_SIZE: u32 = 32;
const TAG_CLOCK: u8 = 0;
const TAG_FD_READ: u8 = 1;
const TAG_FD_WRITE: u8 = 2;
const ABSTIME: u16 = 1;
/// The longest a host sleep runs before checking for an interrupt.
const CHECK_EVERY: Duration = Duration::from_millis(5);

/// One event to report.
struct Event {
    userdata: u64,
    error: Errno,
    tag: u8,
}

/// A clock subscription: when it fires, in nanoseconds from now.
struct Timer {
    userdata: u64,
    after: u64,
}

/// Reads the subscriptions; returns the events ready now and the clock
/// subscriptions.
fn read_subscriptions(
    c: &mut WasiCtx,
    m: &GuestMemory<'_>,
    subs: u32,
    count: u32,
) -> WasiResult<(Vec<Event>, Vec<Timer>)> {
    let bytes = (count as u64).checked_mul(SUBSCRIPTION_SIZE as u64).ok_or(Errno::FAULT)?;
    m.bytes(subs, u32::try_from(bytes).map_err(|_| Errno::FAULT)?)?;
    let (mut ready, mut timers) = (Vec::new(), Vec::new());
    for i in 0..count {
        let at = subs + i * SUBSCRIPTION_SIZE; // in bounds: checked above
        let userdata = m.u64(at)?;
        match m.u8(at + 8)? {
            TAG_CLOCK => {
                let id = m.u32(at + 16)?;
                let timeout = m.u64(at + 24)?;
                let flags = m.u16(at + 40)?;
                let after = if flags & ABSTIME != 0 {
                    match id {
                        CLOCK_REALTIME | CLOCK_MONOTONIC => {
                            timeout.saturating_sub(c.clock.now(id)?)
                        }
                        _ => return Err(Errno::INVAL),
                    }
                } else {
                    c.clock.resolution(id)?;
                    timeout
                };
                timers.push(Timer { userdata, after });
            }
            tag @ (TAG_FD_READ | TAG_FD_WRITE) => {
                let fd = m.u32(at + 16)?;
                let error = match c.fds.get(fd) {
                    Ok(super::fs::Desc::Dir(_)) => Errno::BADF,
                    Ok(_) => Errno::SUCCESS,
                    Err(e) => e,
                };
                ready.push(Event { userdata, error, tag });
            }
            _ => return Err(Errno::INVAL),
        }
    }
    Ok((ready, timers))
}

fn write_events(m: &mut GuestMemory<'_>, events: u32, list: &[Event], out: u32) -> WasiResult<()> {
    let bytes = (list.len() as u64).checked_mul(EVENT_SIZE as u64).ok_or(Errno::FAULT)?;
    m.bytes(events, u32::try_from(bytes).map_err(|_| Errno::FAULT)?)?;
    for (i, e) in list.iter().enumerate() {
        let at = events + i as u32 * EVENT_SIZE;
        let mut b = [0u8; EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&e.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&e.error.0.to_le_bytes());
        b[10] = e.tag;
        m.write_bytes(at, &b)?;
    }
    m.set_u32(out, list.len() as u32)
}

/// The `poll_oneoff` call.
pub(super) fn poll_oneoff<T>(
    caller: &mut Caller<'_, T>,
    ctx: fn(&mut T) -> &mut WasiCtx,
    subs: u32,
    events: u32,
    count: u32,
    out: u32,
) -> crate::Result<i32> {
    let Some(memory) = caller.get_memory("memory") else {
        return Ok(Errno::FAULT.0 as i32);
    };
    if count == 0 {
        return Ok(Errno::INVAL.0 as i32);
    }
    let (ready, timers, real) = {
        let (data, host) = memory.data_and_store_mut(caller);
        let c = ctx(host);
        match read_subscriptions(c, &GuestMemory(data), subs, count) {
            Ok((r, t)) => (r, t, c.clock.is_real()),
            Err(e) => return Ok(e.0 as i32),
        }
    };
    let fired = if !ready.is_empty() {
        // Descriptors are ready: report them, and clocks already due.
        let mut list = ready;
        list.extend(timers.iter().filter(|t| t.after == 0).map(|t| Event {
            userdata: t.userdata,
            error: Errno::SUCCESS,
            tag: TAG_CLOCK,
        }));
        list
    } else {
        let wait = timers.iter().map(|t| t.after).min().unwrap_or(0);
        if real {
            let until = Instant::now() + Duration::from_nanos(wait);
            loop {
                if caller.interrupted() {
                    return Err(crate::Error::Trap(Trap::new(TrapCode::Interrupted)));
                }
                let now = Instant::now();
                if now >= until {
                    break;
                }
                std::thread::sleep((until - now).min(CHECK_EVERY));
            }
        } else {
            let (_, host) = memory.data_and_store_mut(caller);
            ctx(host).clock.advance(Duration::from_nanos(wait));
        }
        timers
            .iter()
            .filter(|t| t.after <= wait)
            .map(|t| Event { userdata: t.userdata, error: Errno::SUCCESS, tag: TAG_CLOCK })
            .collect()
    };
    let (data, _) = memory.data_and_store_mut(caller);
    Ok(match write_events(&mut GuestMemory(data), events, &fired, out) {
        Ok(()) => 0,
        Err(e) => e.0 as i32,
    })
}
