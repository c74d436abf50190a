//! The JS-facing signer. A private key enters once, is parsed into a k256
//! signing key that lives only in native memory (zeroized on drop, never
//! returned, never formatted), and every order is signed against a domain
//! whose separator was hashed once at setup.

use k256::ecdsa::{SigningKey, VerifyingKey};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::abi::{
    checksum_address, keccak, parse_address, parse_bytes32, parse_hex_fixed, parse_uint256, to_hex,
    Word,
};
use crate::eip712::{
    clob_auth_digest, domain_separator, order_v1_struct_hash, order_v2_struct_hash,
    poly1271_digest, poly1271_wrap, typed_digest, OrderV1, OrderV2,
};

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

/// An EIP-712 domain of one exchange deployment, hashed once.
#[napi]
pub struct Eip712Domain {
    separator: Word,
    version: u8,
    chain_id: u64,
}

#[napi]
impl Eip712Domain {
    /// `version` is the domain version string ("1", "2" or "3").
    #[napi(constructor)]
    pub fn new(name: String, version: String, chain_id: u32, verifying_contract: String) -> Result<Self> {
        let version_num = match version.as_str() {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            _ => return Err(invalid(format!("version: must be \"1\", \"2\" or \"3\", got {version:?}"))),
        };
        if chain_id == 0 {
            return Err(invalid("chainId: must be > 0".into()));
        }
        let contract = parse_address("verifyingContract", &verifying_contract).map_err(invalid)?;
        Ok(Self {
            separator: domain_separator(&name, &version, chain_id as u64, &contract),
            version: version_num,
            chain_id: chain_id as u64,
        })
    }

    #[napi(getter)]
    pub fn separator(&self) -> String {
        to_hex(&self.separator)
    }

    #[napi(getter)]
    pub fn version(&self) -> u32 {
        self.version as u32
    }
}

/// V2/V3 order struct fields by their protocol names; uint256 values are
/// decimal strings, addresses and bytes32 values 0x-hex.
#[napi(object)]
pub struct OrderV2Fields {
    pub salt: String,
    pub maker: String,
    pub signer: String,
    pub token_id: String,
    pub maker_amount: String,
    pub taker_amount: String,
    /// 0 = BUY, 1 = SELL
    pub side: u32,
    /// 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE, 3 POLY_1271
    pub signature_type: u32,
    /// milliseconds
    pub timestamp: String,
    pub metadata: Option<String>,
    pub builder: Option<String>,
}

#[napi(object)]
pub struct OrderV1Fields {
    pub salt: String,
    pub maker: String,
    pub signer: String,
    pub taker: Option<String>,
    pub token_id: String,
    pub maker_amount: String,
    pub taker_amount: String,
    pub expiration: Option<String>,
    pub nonce: Option<String>,
    pub fee_rate_bps: Option<String>,
    pub side: u32,
    pub signature_type: u32,
}

#[napi(object)]
pub struct SignedDigest {
    /// The EIP-712 digest of the order (the order hash the exchange uses).
    pub hash: String,
    pub signature: String,
}

fn parse_side(side: u32) -> Result<u8> {
    match side {
        0 | 1 => Ok(side as u8),
        _ => Err(invalid(format!("side: must be 0 (BUY) or 1 (SELL), got {side}"))),
    }
}

fn parse_v2(f: &OrderV2Fields) -> std::result::Result<OrderV2, String> {
    Ok(OrderV2 {
        salt: parse_uint256("salt", &f.salt)?,
        maker: parse_address("maker", &f.maker)?,
        signer: parse_address("signer", &f.signer)?,
        token_id: parse_uint256("tokenId", &f.token_id)?,
        maker_amount: parse_uint256("makerAmount", &f.maker_amount)?,
        taker_amount: parse_uint256("takerAmount", &f.taker_amount)?,
        side: 0,
        signature_type: 0,
        timestamp: parse_uint256("timestamp", &f.timestamp)?,
        metadata: parse_bytes32("metadata", f.metadata.as_deref())?,
        builder: parse_bytes32("builder", f.builder.as_deref())?,
    })
}

fn parse_v1(f: &OrderV1Fields) -> std::result::Result<OrderV1, String> {
    let zero_or = |field: &str, v: &Option<String>| match v {
        None => Ok([0u8; 32]),
        Some(t) => parse_uint256(field, t),
    };
    Ok(OrderV1 {
        salt: parse_uint256("salt", &f.salt)?,
        maker: parse_address("maker", &f.maker)?,
        signer: parse_address("signer", &f.signer)?,
        taker: match &f.taker {
            None => [0u8; 32],
            Some(t) => parse_address("taker", t)?,
        },
        token_id: parse_uint256("tokenId", &f.token_id)?,
        maker_amount: parse_uint256("makerAmount", &f.maker_amount)?,
        taker_amount: parse_uint256("takerAmount", &f.taker_amount)?,
        expiration: zero_or("expiration", &f.expiration)?,
        nonce: zero_or("nonce", &f.nonce)?,
        fee_rate_bps: zero_or("feeRateBps", &f.fee_rate_bps)?,
        side: 0,
        signature_type: 0,
    })
}

/// Checked conversion of V2/V3 fields; shared by hashing and signing.
fn checked_v2(fields: &OrderV2Fields) -> Result<OrderV2> {
    let mut order = parse_v2(fields).map_err(invalid)?;
    order.side = parse_side(fields.side)?;
    if fields.signature_type > 3 {
        return Err(invalid(format!(
            "signatureType: must be 0, 1, 2 or 3, got {}",
            fields.signature_type
        )));
    }
    order.signature_type = fields.signature_type as u8;
    Ok(order)
}

fn require_order_domain(domain: &Eip712Domain, v1: bool) -> Result<()> {
    match (v1, domain.version) {
        (true, 1) | (false, 2) | (false, 3) => Ok(()),
        (true, v) => Err(invalid(format!("version: a V1 order needs a version \"1\" domain, got \"{v}\""))),
        (false, v) => Err(invalid(format!("version: a V2/V3 order needs a version \"2\" or \"3\" domain, got \"{v}\""))),
    }
}

/// EIP-712 order hash of a V2/V3 order, without a key.
#[napi]
pub fn hash_order_v2(order: OrderV2Fields, domain: &Eip712Domain) -> Result<String> {
    require_order_domain(domain, false)?;
    let o = checked_v2(&order)?;
    Ok(to_hex(&typed_digest(&domain.separator, &order_v2_struct_hash(&o))))
}

#[napi]
pub struct OrderSigner {
    key: SigningKey,
    address: [u8; 20],
}

impl OrderSigner {
    fn from_secret_hex(text: &str) -> Result<Self> {
        // Never echo the input back: a typo'd key is still mostly a key.
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
            parse_hex_fixed::<32>("privateKey", text.trim())
                .map_err(|_| invalid("privateKey: must be 0x followed by 64 hex digits".into()))?,
        );
        let key = SigningKey::from_bytes(bytes.as_ref().into())
            .map_err(|_| invalid("privateKey: not a valid secp256k1 scalar".into()))?;
        let address = address_of(key.verifying_key());
        Ok(Self { key, address })
    }

    fn sign_digest(&self, digest: &Word) -> Result<[u8; 65]> {
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(digest)
            .map_err(|_| Error::new(Status::GenericFailure, "signing failed".to_string()))?;
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.is_y_odd() as u8;
        Ok(out)
    }

    fn own_address_word(&self) -> Word {
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(&self.address);
        w
    }
}

fn address_of(vk: &VerifyingKey) -> [u8; 20] {
    let point = vk.to_encoded_point(false);
    let hash = keccak(&point.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

#[napi]
impl OrderSigner {
    /// Reads the key from an environment variable inside native code, so the
    /// secret never becomes a JS string.
    #[napi(factory)]
    pub fn from_env(variable: String) -> Result<Self> {
        let value = Zeroizing::new(std::env::var(&variable).map_err(|_| {
            Error::new(Status::InvalidArg, format!("{variable}: environment variable is not set"))
        })?);
        Self::from_secret_hex(&value).map_err(|e| invalid(format!("{variable}: {}", e.reason)))
    }

    #[napi(factory)]
    pub fn from_hex(private_key: String) -> Result<Self> {
        let secret = Zeroizing::new(private_key);
        Self::from_secret_hex(&secret)
    }

    /// EIP-55 checksummed address of the key.
    #[napi(getter)]
    pub fn address(&self) -> String {
        checksum_address(&self.address)
    }

    /// Signs a V2 or V3 order (the domain decides which). Signature types
    /// 0-2 give a 65-byte ECDSA signature; type 3 (POLY_1271) gives the
    /// wrapped deposit-wallet signature.
    #[napi]
    pub fn sign_order_v2(&self, order: OrderV2Fields, domain: &Eip712Domain) -> Result<SignedDigest> {
        require_order_domain(domain, false)?;
        let o = checked_v2(&order)?;
        let own = self.own_address_word();
        if o.signature_type == 3 {
            if o.maker != o.signer {
                return Err(invalid("signer: a POLY_1271 order needs maker = signer = the deposit wallet".into()));
            }
        } else {
            if o.signer != own {
                return Err(invalid(format!("signer: must be the key's address {}", self.address())));
            }
            if o.signature_type == 0 && o.maker != o.signer {
                return Err(invalid("maker: an EOA order (signatureType 0) needs maker = signer".into()));
            }
        }
        let contents = order_v2_struct_hash(&o);
        let hash = typed_digest(&domain.separator, &contents);
        let signature = if o.signature_type == 3 {
            let inner = self.sign_digest(&poly1271_digest(&domain.separator, &contents, domain.chain_id, &o.signer))?;
            to_hex(&poly1271_wrap(&inner, &domain.separator, &contents))
        } else {
            to_hex(&self.sign_digest(&hash)?)
        };
        Ok(SignedDigest { hash: to_hex(&hash), signature })
    }

    #[napi]
    pub fn sign_order_v1(&self, order: OrderV1Fields, domain: &Eip712Domain) -> Result<SignedDigest> {
        require_order_domain(domain, true)?;
        let mut o = parse_v1(&order).map_err(invalid)?;
        o.side = parse_side(order.side)?;
        if order.signature_type > 2 {
            return Err(invalid(format!(
                "signatureType: V1 orders take 0, 1 or 2, got {}",
                order.signature_type
            )));
        }
        o.signature_type = order.signature_type as u8;
        if o.signer != self.own_address_word() {
            return Err(invalid(format!("signer: must be the key's address {}", self.address())));
        }
        let hash = typed_digest(&domain.separator, &order_v1_struct_hash(&o));
        Ok(SignedDigest { hash: to_hex(&hash), signature: to_hex(&self.sign_digest(&hash)?) })
    }

    /// L1 ClobAuth signature over this key's address; `timestamp` is the
    /// POLY_TIMESTAMP header value in seconds, `nonce` a decimal uint256.
    #[napi]
    pub fn sign_clob_auth(&self, timestamp: String, nonce: String, chain_id: u32) -> Result<String> {
        if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("timestamp: must be decimal seconds".into()));
        }
        let nonce = parse_uint256("nonce", &nonce).map_err(invalid)?;
        let digest = clob_auth_digest(&self.own_address_word(), &timestamp, &nonce, chain_id as u64);
        Ok(to_hex(&self.sign_digest(&digest)?))
    }
}
