//! The `calculate` tool: digits, `+ - * / ( ) .` and spaces only, evaluated
//! in floating point and rounded to two decimals. A small recursive-descent
//! evaluator (no general expression crate matches these exact semantics: true
//! division on integers, unary signs, this character set and nothing else).

use crate::error::{Error, Result};

const MAX_LEN: usize = 1024;
const MAX_DEPTH: usize = 64;

/// Evaluates `expression` and formats the result rounded to two decimals.
pub fn calculate(expression: &str) -> Result<String> {
    if expression.len() > MAX_LEN {
        return Err(Error::InvalidExpression("expression is too long".into()));
    }
    if !expression.chars().all(|c| "0123456789+-*/(). ".contains(c)) {
        return Err(Error::InvalidExpression(
            "only digits, + - * / ( ) . and spaces are allowed".into(),
        ));
    }
    let mut p = Parser {
        src: expression.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let value = p.expr()?;
    p.skip_ws();
    if p.pos != p.src.len() {
        return Err(Error::InvalidExpression(format!(
            "unexpected character at position {}",
            p.pos
        )));
    }
    if !value.is_finite() {
        return Err(Error::InvalidExpression(
            "result is not a finite number".into(),
        ));
    }
    Ok(format_rounded(value))
}

/// Rounds half away from zero to 2 decimals and prints like a decimal literal (`4.0`, `12.35`).
fn format_rounded(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    if rounded.fract() == 0.0 {
        format!("{rounded:.1}")
    } else {
        format!("{rounded}")
    }
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.src.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.get(self.pos).copied()
    }

    fn expr(&mut self) -> Result<f64> {
        let mut acc = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.pos += 1;
            let rhs = self.term()?;
            acc = if op == b'+' { acc + rhs } else { acc - rhs };
        }
        Ok(acc)
    }

    fn term(&mut self) -> Result<f64> {
        let mut acc = self.factor()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.pos += 1;
            let rhs = self.factor()?;
            if op == b'/' && rhs == 0.0 {
                return Err(Error::InvalidExpression("division by zero".into()));
            }
            acc = if op == b'*' { acc * rhs } else { acc / rhs };
        }
        Ok(acc)
    }

    fn factor(&mut self) -> Result<f64> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::InvalidExpression(
                "expression is nested too deeply".into(),
            ));
        }
        let value = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                -self.factor()?
            }
            Some(b'+') => {
                self.pos += 1;
                self.factor()?
            }
            Some(b'(') => {
                self.pos += 1;
                let v = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(Error::InvalidExpression("missing ')'".into()));
                }
                self.pos += 1;
                v
            }
            Some(b'0'..=b'9' | b'.') => self.number()?,
            _ => return Err(Error::InvalidExpression("expected a number".into())),
        };
        self.depth -= 1;
        Ok(value)
    }

    fn number(&mut self) -> Result<f64> {
        let start = self.pos;
        while matches!(self.src.get(self.pos), Some(b'0'..=b'9' | b'.')) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.src[start..self.pos]).unwrap_or_default();
        text.parse::<f64>()
            .map_err(|_| Error::InvalidExpression(format!("bad number '{text}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::calculate;

    #[test]
    fn evaluates_with_precedence_and_true_division() {
        assert_eq!(calculate("2 + 2").unwrap(), "4.0");
        assert_eq!(calculate("7 / 2").unwrap(), "3.5");
        assert_eq!(calculate("(1 + 2) * 3 - 4 / 8").unwrap(), "8.5");
        assert_eq!(calculate("-(3 - 5)").unwrap(), "2.0");
        assert_eq!(calculate("1380.79 - 466.75").unwrap(), "914.04");
        assert_eq!(calculate("10 / 3").unwrap(), "3.33");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(calculate("import os").is_err());
        assert!(calculate("2 ** 3").is_err());
        assert!(calculate("1 / 0").is_err());
        assert!(calculate("(1 + 2").is_err());
        assert!(calculate("1..2").is_err());
        assert!(calculate(&"(".repeat(500)).is_err());
        assert!(calculate("").is_err());
    }
}
