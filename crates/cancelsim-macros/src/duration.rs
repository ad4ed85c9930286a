//! Durations written in an attribute (`grace = "5s"`), read at compile
//! time so that a typo is an error at the user's literal.

use syn::{Expr, Ident, Lit};

use crate::args::Val;

/// Reads `"250ms"`, `"5s"`, `"1.5s"` or `"2m"` as whole milliseconds.
pub(crate) fn duration_arg(name: &Ident, value: &Expr) -> syn::Result<Val<u64>> {
    let hint = format!(
        "`{name}` is a duration string with a unit: `ms`, `s` or `m`, e.g. `{name} = \"5s\"` \
         or `{name} = \"250ms\"`"
    );
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(text),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(value, hint));
    };
    match millis(&text.value()) {
        Some(ms) => Ok(Val {
            value: ms,
            span: text.span(),
        }),
        None => Err(syn::Error::new(text.span(), hint)),
    }
}

/// `text` in milliseconds, if it is a non-negative number and a unit.
fn millis(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, scale) = if let Some(number) = text.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1_000.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60_000.0)
    } else {
        return None;
    };
    let value: f64 = number.trim().parse().ok()?;
    let ms = value * scale;
    (value.is_finite() && value >= 0.0 && ms <= u64::MAX as f64).then(|| ms.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn units_and_decimals_read_as_milliseconds() {
        assert_eq!(millis("250ms"), Some(250));
        assert_eq!(millis("5s"), Some(5_000));
        assert_eq!(millis("1.5s"), Some(1_500));
        assert_eq!(millis("2m"), Some(120_000));
        assert_eq!(millis("5"), None);
        assert_eq!(millis("-1s"), None);
        assert_eq!(millis("fast"), None);
    }
}
