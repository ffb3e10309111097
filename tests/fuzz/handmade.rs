//! Seeds the host kernel cannot produce, built from the uapi layouts:
//! XFRM states (no ESP/AH on the host) and the notices about them, and
//! the engine's control messages (errors with extended ACKs, dump ends).

use super::seeds::Seed;

fn msg(ty: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + payload.len());
    m.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&7u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel
    m.extend_from_slice(payload);
    m
}

fn attr(b: &mut Vec<u8>, ty: u16, v: &[u8]) {
    b.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
    b.extend_from_slice(&ty.to_ne_bytes());
    b.extend_from_slice(v);
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
}

/// `xfrm_algo` (or `_auth`/`_aead` with `icv`): name, key bits, key.
fn alg(name: &str, icv: Option<u32>, key: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; 64];
    v[..name.len()].copy_from_slice(name.as_bytes());
    v.extend_from_slice(&(key.len() as u32 * 8).to_ne_bytes());
    if let Some(i) = icv {
        v.extend_from_slice(&i.to_ne_bytes());
    }
    v.extend_from_slice(key);
    v
}

/// `struct xfrm_usersa_info` of an IPv4 ESP tunnel state.
fn sa_info() -> Vec<u8> {
    let mut b = vec![0u8; 224];
    b[0..4].copy_from_slice(&[10, 0, 1, 0]); // sel daddr
    b[16..20].copy_from_slice(&[10, 0, 0, 0]); // sel saddr
    b[40..42].copy_from_slice(&2u16.to_ne_bytes());
    (b[42], b[43], b[44]) = (24, 24, 6);
    b[56..60].copy_from_slice(&[192, 0, 2, 2]); // id.daddr
    b[72..76].copy_from_slice(&0x1000u32.to_be_bytes());
    b[76] = 50; // esp
    b[80..84].copy_from_slice(&[192, 0, 2, 1]); // saddr
    b[96..128].fill(0xff); // no byte or packet limits
    b[208..212].copy_from_slice(&3u32.to_ne_bytes()); // reqid
    b[212..214].copy_from_slice(&2u16.to_ne_bytes()); // AF_INET
    b[214] = 1; // tunnel
    b[216] = 16; // ESN
    b
}

/// Every attribute a state can carry.
fn sa_attrs(b: &mut Vec<u8>) {
    attr(b, 2, &alg("cbc(aes)", None, &[9; 16]));
    attr(b, 20, &alg("hmac(sha256)", Some(128), &[7; 32]));
    attr(b, 3, &alg("deflate", None, &[]));
    let mut encap = vec![0u8; 24];
    encap[0..2].copy_from_slice(&2u16.to_ne_bytes());
    encap[2..4].copy_from_slice(&4500u16.to_be_bytes());
    encap[4..6].copy_from_slice(&4501u16.to_be_bytes());
    encap[8..12].copy_from_slice(&[198, 51, 100, 9]);
    attr(b, 4, &encap);
    attr(b, 21, &[1, 0, 0, 0, 0xf, 0, 0, 0]); // mark
    let mut esn = Vec::new();
    for v in [4u32, 1, 2, 0, 0, 128, 0xff, 0, 0, 1] {
        esn.extend_from_slice(&v.to_ne_bytes());
    }
    attr(b, 23, &esn);
    attr(b, 10, &[0; 12]); // legacy replay
    attr(b, 15, &1_700_000_000u64.to_ne_bytes()); // lastused
    let mut coa = [0u8; 16];
    coa[..4].copy_from_slice(&[192, 0, 2, 9]);
    attr(b, 14, &coa);
    let ctx = b"system_u:object_r:ipsec_spd_t:s0\0";
    let mut sc = ((8 + ctx.len()) as u16).to_ne_bytes().to_vec();
    sc.extend_from_slice(&8u16.to_ne_bytes());
    sc.extend_from_slice(&[1, 1]);
    sc.extend_from_slice(&(ctx.len() as u16).to_ne_bytes());
    sc.extend_from_slice(ctx);
    attr(b, 8, &sc);
    attr(b, 28, &[3, 0, 0, 0, 2, 0, 0, 0]); // offload dev 3, inbound
    for (ty, v) in [(31u16, 4u32), (29, 2), (30, 0xff), (22, 16), (24, 2)] {
        attr(b, ty, &v.to_ne_bytes());
    }
}

fn control_messages() -> Vec<Vec<u8>> {
    let req = msg(19, 0x5, &[0; 24]); // the request an error echoes
    let mut capped = (-22i32).to_ne_bytes().to_vec();
    capped.extend_from_slice(&req[..16]);
    attr(&mut capped, 1, b"Invalid template\0"); // NLMSGERR_ATTR_MSG
    attr(&mut capped, 2, &20u32.to_ne_bytes()); // NLMSGERR_ATTR_OFFS
    let mut echoed = (-17i32).to_ne_bytes().to_vec();
    echoed.extend_from_slice(&req);
    attr(&mut echoed, 1, b"File exists\0");
    let mut ack = 0i32.to_ne_bytes().to_vec();
    ack.extend_from_slice(&req[..16]);
    let mut done = (-4i32).to_ne_bytes().to_vec();
    attr(&mut done, 1, b"Dump was interrupted\0");
    vec![
        msg(2, 0x100 | 0x200, &capped), // NLM_F_CAPPED | NLM_F_ACK_TLVS
        msg(2, 0x200, &echoed),
        msg(2, 0x100, &ack),
        msg(3, 0x2 | 0x200, &done), // NLMSG_DONE, multi, ACK_TLVS
        msg(1, 0, &[]),             // NLMSG_NOOP
    ]
}

pub fn all() -> Vec<Seed> {
    let mut out = Vec::new();
    let mut push = |origin: &str, bytes: Vec<u8>| {
        out.push(Seed {
            origin: origin.to_owned(),
            bytes,
        })
    };
    // RTM_NEWNSID (the seeds' namespace gives no peer an id).
    let mut nsid = vec![0u8; 4];
    attr(&mut nsid, 1, &7i32.to_ne_bytes());
    attr(&mut nsid, 5, &(-1i32).to_ne_bytes());
    push("nsid", msg(88, 2, &nsid));
    let mut newsa = sa_info();
    sa_attrs(&mut newsa);
    push("xfrm newsa", msg(16, 0, &newsa));
    let mut aead = sa_info();
    attr(
        &mut aead,
        18,
        &alg("rfc4106(gcm(aes))", Some(128), &[5; 20]),
    );
    push("xfrm newsa aead", msg(26, 0, &aead));
    // DELSA: xfrm_usersa_id, then the state in XFRMA_SA.
    let mut delsa = vec![0u8; 24];
    delsa[..4].copy_from_slice(&[192, 0, 2, 2]);
    delsa[16..20].copy_from_slice(&0x1000u32.to_be_bytes());
    delsa[20..22].copy_from_slice(&2u16.to_ne_bytes());
    delsa[22] = 50;
    attr(&mut delsa, 6, &sa_info());
    sa_attrs(&mut delsa);
    push("xfrm delsa", msg(17, 0, &delsa));
    // EXPIRE: the state, `hard`, padding, then its attributes.
    let mut expire = sa_info();
    expire.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    sa_attrs(&mut expire);
    push("xfrm expire", msg(24, 0, &expire));
    // MAPPING: xfrm_user_mapping (id, reqid, old and new address and port).
    let mut mapping = vec![0u8; 64];
    mapping[..4].copy_from_slice(&[192, 0, 2, 2]);
    mapping[16..20].copy_from_slice(&0x1000u32.to_be_bytes());
    mapping[20..22].copy_from_slice(&2u16.to_ne_bytes());
    mapping[22] = 50;
    mapping[28..32].copy_from_slice(&[203, 0, 113, 1]);
    mapping[44..48].copy_from_slice(&[203, 0, 113, 2]);
    mapping[60..62].copy_from_slice(&4500u16.to_be_bytes());
    mapping[62..64].copy_from_slice(&4501u16.to_be_bytes());
    push("xfrm mapping", msg(38, 0, &mapping));
    // REPORT: proto, the selector at 4, XFRMA_COADDR.
    let mut report = vec![0u8; 60];
    report[0] = 43;
    report[4..20].copy_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    report[44..46].copy_from_slice(&10u16.to_ne_bytes());
    attr(
        &mut report,
        14,
        &[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
    );
    push("xfrm report", msg(32, 0, &report));
    // POLEXPIRE: xfrm_userpolicy_info, `hard`, padding, XFRMA_TMPL.
    let mut polexp = vec![0u8; 176];
    polexp[40..42].copy_from_slice(&2u16.to_ne_bytes());
    polexp[160] = 1;
    polexp[168] = 1;
    let mut tmpl = vec![0u8; 64];
    tmpl[20] = 50;
    tmpl[24..26].copy_from_slice(&2u16.to_ne_bytes());
    attr(&mut polexp, 5, &tmpl);
    push("xfrm polexpire", msg(27, 0, &polexp));
    for m in control_messages() {
        push("control", m);
    }
    out
}
