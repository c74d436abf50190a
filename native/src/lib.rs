//! polyedge native addon: order signing, the UDP relay (packets, sender, and the receive
//! thread with its admission gate and MAC), pinning, clocks.

mod abi;
mod eip712;
mod gate;
mod mac;
mod packet;
mod packet_js;
mod relay_recv;
mod relay_send;
mod signer;
mod sys;
