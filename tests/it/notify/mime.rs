//! Just enough MIME to read what the SMTP sink received: the headers of the message and the
//! decoded text of its `text/plain` and `text/html` parts.

use base64::Engine;

/// (headers, plain text, html) of a `multipart/alternative` message.
pub fn parts(data: &str) -> (String, String, String) {
    let data = data.replace("\r\n", "\n");
    let (headers, _) = data.split_once("\n\n").unwrap_or((&data, ""));
    let boundary = headers
        .split("boundary=")
        .nth(1)
        .map(|b| {
            b.trim_start_matches('"')
                .split(['"', '\n', ';'])
                .next()
                .unwrap_or("")
        })
        .expect("a multipart message");
    let (mut plain, mut html) = (String::new(), String::new());
    for part in data.split(&format!("--{boundary}")).skip(1) {
        let Some((part_headers, body)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let lower = part_headers.to_ascii_lowercase();
        let text = if lower.contains("quoted-printable") {
            quoted_printable(body)
        } else if lower.contains("base64") {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap(),
            )
            .unwrap()
        } else {
            body.to_string()
        };
        if lower.contains("text/html") {
            html = text;
        } else if lower.contains("text/plain") {
            plain = text;
        }
    }
    (headers.to_string(), plain, html)
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
