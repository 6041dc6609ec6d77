//! XXH32, the 32-bit xxHash, which names a scope: the prefix of a scope's keys is the hash of
//! its name (seed 0, over the name's UTF-8 bytes), as in scoped-heed, so the same name maps to
//! the same prefix in every program and every version.
//!
//! Written out here rather than pulled from a crate: it is thirty lines, and the specification
//! (<https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md>) fixes every step.

const PRIME_1: u32 = 0x9E37_79B1;
const PRIME_2: u32 = 0x85EB_CA77;
const PRIME_3: u32 = 0xC2B2_AE3D;
const PRIME_4: u32 = 0x27D4_EB2F;
const PRIME_5: u32 = 0x1656_67B1;

fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// One lane's step over a 4-byte word of a 16-byte stripe.
fn round(accumulator: u32, word: u32) -> u32 {
    accumulator
        .wrapping_add(word.wrapping_mul(PRIME_2))
        .rotate_left(13)
        .wrapping_mul(PRIME_1)
}

/// The XXH32 hash of `data` with `seed`.
pub(crate) fn xxh32(data: &[u8], seed: u32) -> u32 {
    let mut rest = data;
    let mut hash = if data.len() >= 16 {
        let mut lanes = [
            seed.wrapping_add(PRIME_1).wrapping_add(PRIME_2),
            seed.wrapping_add(PRIME_2),
            seed,
            seed.wrapping_sub(PRIME_1),
        ];
        while rest.len() >= 16 {
            for (index, lane) in lanes.iter_mut().enumerate() {
                *lane = round(*lane, read_u32(&rest[index * 4..]));
            }
            rest = &rest[16..];
        }
        lanes[0]
            .rotate_left(1)
            .wrapping_add(lanes[1].rotate_left(7))
            .wrapping_add(lanes[2].rotate_left(12))
            .wrapping_add(lanes[3].rotate_left(18))
    } else {
        seed.wrapping_add(PRIME_5)
    };
    // The specification adds the length modulo 2^32.
    hash = hash.wrapping_add(data.len() as u32);
    while rest.len() >= 4 {
        hash = hash
            .wrapping_add(read_u32(rest).wrapping_mul(PRIME_3))
            .rotate_left(17)
            .wrapping_mul(PRIME_4);
        rest = &rest[4..];
    }
    for &byte in rest {
        hash = hash
            .wrapping_add(u32::from(byte).wrapping_mul(PRIME_5))
            .rotate_left(11)
            .wrapping_mul(PRIME_1);
    }
    hash ^= hash >> 15;
    hash = hash.wrapping_mul(PRIME_2);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(PRIME_3);
    hash ^ (hash >> 16)
}

/// The hash of a scope name: XXH32 with seed 0 over its UTF-8 bytes.
pub(crate) fn scope_hash(name: &str) -> u32 {
    xxh32(name.as_bytes(), 0)
}

#[cfg(test)]
mod tests {
    use super::{scope_hash, xxh32};

    #[test]
    fn known_vectors() {
        // The vectors, the specification's empty input, and inputs that reach every
        // branch: the 16-byte stripes, the 4-byte words and the single-byte tail.
        assert_eq!(scope_hash("tenant1"), 0x4ed8_79c3);
        assert_eq!(scope_hash("a"), 0x550d_7456);
        assert_eq!(xxh32(b"", 0), 0x02cc_5d05);
        assert_eq!(xxh32(b"", 1), 0x0b2c_b792);
        assert_eq!(
            xxh32(b"Nobody inspects the spammish repetition", 0),
            0xe229_3b2f
        );
        assert_eq!(
            xxh32(b"The quick brown fox jumps over the lazy dog", 0),
            0xe85e_a4de
        );
    }

    #[test]
    fn names_the_scoped_heed_tests_depend_on() {
        // The collision pair and the hash ending in 0xFF that scoped-heed's bugs showed.
        assert_eq!(scope_hash("scope_33896"), scope_hash("scope_112499"));
        assert_eq!(scope_hash("scope_1000") & 0xFF, 0xFF);
    }
}
