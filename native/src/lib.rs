//! polyedge native addon: order signing, relay packets, pinning, clocks.

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
