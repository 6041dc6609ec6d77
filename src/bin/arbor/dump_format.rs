//! The text format of LMDB's `mdb_dump` / `mdb_load`: a header of `key=value` lines ending in
//! `HEADER=END`, then each record as a key line and a value line (each starting with one
//! space), then `DATA=END`. Values are hex pairs (`format=bytevalue`) or printable ASCII with
//! `\\` for a backslash and `\xx` for any other byte (`format=print`). A duplicate-sorted
//! database has one key line and value line per pair, a key's values in their order.

use arbordb::DatabaseFlags;

/// How record bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Two lowercase hex digits per byte (what a header without a format line means).
    #[default]
    ByteValue,
    /// Printable ASCII as is, `\\` for a backslash, `\xx` for other bytes.
    Print,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::ByteValue => "bytevalue",
            Format::Print => "print",
        }
    }
}

/// The flags a header's flag lines set, in the order mdb_dump writes them (it writes
/// `duplicates=1` before them when `dupsort` is among them).
pub const FLAG_WORDS: [(DatabaseFlags, &str); 6] = [
    (DatabaseFlags::REVERSE_KEY, "reversekey"),
    (DatabaseFlags::DUP_SORT, "dupsort"),
    (DatabaseFlags::INTEGER_KEY, "integerkey"),
    (DatabaseFlags::DUP_FIXED, "dupfixed"),
    (DatabaseFlags::INTEGER_DUP, "integerdup"),
    (DatabaseFlags::REVERSE_DUP, "reversedup"),
];

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends one record line (leading space and newline included) to `out`.
pub fn encode_line(format: Format, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b' ');
    for &byte in bytes {
        match format {
            Format::ByteValue => {
                out.extend_from_slice(&[HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 15)]])
            }
            // C's isprint in the "C" locale: 0x20 to 0x7e.
            Format::Print if (0x20..=0x7e).contains(&byte) => {
                if byte == b'\\' {
                    out.push(b'\\');
                }
                out.push(byte);
            }
            Format::Print => out.extend_from_slice(&[
                b'\\',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]),
        }
    }
    out.push(b'\n');
}

fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes the text of one record line (without its leading space and newline).
pub fn decode_line(format: Format, text: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    match format {
        Format::ByteValue => {
            if text.len() % 2 != 0 {
                return Err(format!("odd number of hex digits ({})", text.len()));
            }
            for pair in text.chunks_exact(2) {
                match (hex_digit(pair[0]), hex_digit(pair[1])) {
                    (Some(high), Some(low)) => out.push(high << 4 | low),
                    _ => {
                        return Err(format!(
                            "{:?} is not a hex byte",
                            String::from_utf8_lossy(pair)
                        ))
                    }
                }
            }
        }
        Format::Print => {
            let mut rest = text;
            while let Some((&byte, tail)) = rest.split_first() {
                if byte != b'\\' {
                    out.push(byte);
                    rest = tail;
                    continue;
                }
                match tail {
                    [b'\\', after @ ..] => {
                        out.push(b'\\');
                        rest = after;
                    }
                    [high, low, after @ ..] => match (hex_digit(*high), hex_digit(*low)) {
                        (Some(high), Some(low)) => {
                            out.push(high << 4 | low);
                            rest = after;
                        }
                        _ => {
                            return Err(
                                "a backslash must be followed by a backslash or two hex digits"
                                    .into(),
                            )
                        }
                    },
                    _ => {
                        return Err(
                            "a backslash must be followed by a backslash or two hex digits".into(),
                        )
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_in_both_formats() {
        let samples: [&[u8]; 5] = [
            b"",
            b"plain text",
            b"back\\slash",
            b"\x00\xff\n\x7f ~",
            &[0x5c; 3],
        ];
        for format in [Format::ByteValue, Format::Print] {
            for sample in samples {
                let mut line = Vec::new();
                encode_line(format, sample, &mut line);
                assert_eq!((line[0], *line.last().unwrap()), (b' ', b'\n'));
                let mut decoded = Vec::new();
                decode_line(format, &line[1..line.len() - 1], &mut decoded).unwrap();
                assert_eq!(decoded, sample);
            }
        }
        let mut line = Vec::new();
        encode_line(Format::Print, b"a\\b\x01", &mut line);
        assert_eq!(line, b" a\\\\b\\01\n");
        line.clear();
        encode_line(Format::ByteValue, b"\x00\xab", &mut line);
        assert_eq!(line, b" 00ab\n");
    }

    #[test]
    fn malformed_lines_are_errors() {
        let mut out = Vec::new();
        assert!(decode_line(Format::ByteValue, b"abc", &mut out).is_err());
        assert!(decode_line(Format::ByteValue, b"zz", &mut out).is_err());
        assert!(decode_line(Format::Print, b"tail\\", &mut out).is_err());
        assert!(decode_line(Format::Print, b"\\g1", &mut out).is_err());
        decode_line(Format::ByteValue, b"4A4b", &mut out).unwrap();
        assert_eq!(out, b"JK");
    }
}
