//! Address validation at sync time: email syntax, phone numbers normalised to E.164, numeric
//! Telegram chat ids. Each returns the normalised address or the reason it is skipped.

/// A plausible single mailbox: one `@`, a non-empty local part, a dotted domain, no spaces or
/// angle brackets (the SMTP server has the last word).
pub fn email(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty email address".into());
    }
    let bad = |why: &str| Err(format!("{text:?} is not an email address: {why}"));
    if text
        .chars()
        .any(|c| c.is_whitespace() || "<>(),;:\"[]\\".contains(c))
    {
        return bad("it contains a space or a reserved character");
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.contains('@') {
        return bad("the part before @ is empty or holds another @");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return bad("the domain is not a dotted host name");
    }
    Ok(text.to_string())
}

/// E.164 (`+` and 8 to 15 digits). Spaces, dashes, dots and brackets are dropped; `00` becomes
/// `+`; a national number (leading 0 or none) gets `country_code`.
pub fn phone(text: &str, country_code: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty phone number".into());
    }
    let kept: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
        .collect();
    let (international, digits) = if let Some(rest) = kept.strip_prefix('+') {
        (true, rest.to_string())
    } else if let Some(rest) = kept.strip_prefix("00") {
        (true, rest.to_string())
    } else {
        (false, kept.clone())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{trimmed:?} is not a phone number"));
    }
    let full = if international {
        digits
    } else {
        let country = country_code.trim().trim_start_matches('+');
        if country.is_empty() {
            return Err(format!(
                "{trimmed:?} has no country code and notifications.default_country_code is empty"
            ));
        }
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        if national.starts_with(country) && digits.len() > 10 {
            national.to_string()
        } else {
            format!("{country}{national}")
        }
    };
    if !(8..=15).contains(&full.len()) || full.starts_with('0') {
        return Err(format!(
            "{trimmed:?} is not a valid international number (E.164)"
        ));
    }
    Ok(format!("+{full}"))
}

/// A numeric chat id (negative for groups); a `@username` cannot receive private messages.
pub fn telegram(text: &str) -> Result<String, String> {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(id) if id != 0 => Ok(id.to_string()),
        _ if text.starts_with('@') => Err(format!(
            "{text:?} is a username; Telegram needs the numeric chat id (the user must start the bot)"
        )),
        _ => Err(format!("{text:?} is not a numeric Telegram chat id")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email(" a.b@moh.gov.zm ").unwrap(), "a.b@moh.gov.zm");
        for bad in [
            "",
            "nobody",
            "a@b",
            "a b@c.org",
            "<a@b.org>",
            "a@@b.org",
            "a@-b.org",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(phone("0977 123-456", "260").unwrap(), "+260977123456");
        assert_eq!(phone("+260977123456", "").unwrap(), "+260977123456");
        assert_eq!(phone("00260977123456", "").unwrap(), "+260977123456");
        assert!(
            phone("[0977123456]", "260")
                .unwrap_err()
                .contains("not a phone")
        );
        assert!(phone("0977123456", "").is_err());
        assert!(phone("12", "260").is_err());
        assert!(phone("", "260").is_err());
    }

    #[test]
    fn telegram_ids_are_numeric() {
        assert_eq!(telegram("123456").unwrap(), "123456");
        assert_eq!(telegram("-1001234567890").unwrap(), "-1001234567890");
        assert!(telegram("@someone").unwrap_err().contains("username"));
        assert!(telegram("abc").is_err());
    }
}
