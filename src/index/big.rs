//! Index stage, exact arithmetic: unsigned big integers and non-negative
//! fractions of them, enough for the group statistics (sums of squares of
//! exact fractions overflow `i128` on a few thousand respondents). Little
//! code, no dependency: schoolbook multiplication, binary long division,
//! Newton's integer square root.

use std::cmp::Ordering;

/// An unsigned integer of any size: little-endian 64-bit limbs, no zero limb on top.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Big(Vec<u64>);

impl Big {
    pub fn zero() -> Big {
        Big(vec![])
    }

    pub fn from_u128(n: u128) -> Big {
        let mut b = Big(vec![n as u64, (n >> 64) as u64]);
        b.trim();
        b
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// The value, when it fits.
    pub fn to_u128(&self) -> Option<u128> {
        match self.0.as_slice() {
            [] => Some(0),
            [a] => Some(u128::from(*a)),
            [a, b] => Some(u128::from(*a) | (u128::from(*b) << 64)),
            _ => None,
        }
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn bits(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(top) => 64 * (self.0.len() - 1) + (64 - top.leading_zeros() as usize),
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|l| (l >> (i % 64)) & 1 == 1)
    }

    pub fn add(&self, o: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len().max(o.0.len()) + 1);
        let mut carry = 0u128;
        for i in 0..self.0.len().max(o.0.len()) {
            let s = u128::from(*self.0.get(i).unwrap_or(&0)) + u128::from(*o.0.get(i).unwrap_or(&0)) + carry;
            out.push(s as u64);
            carry = s >> 64;
        }
        out.push(carry as u64);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self − o`; `None` when `o` is larger.
    pub fn sub(&self, o: &Big) -> Option<Big> {
        if self.cmp(o) == Ordering::Less {
            return None;
        }
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i128;
        for i in 0..self.0.len() {
            let d = i128::from(*self.0.get(i).unwrap_or(&0)) - i128::from(*o.0.get(i).unwrap_or(&0)) - borrow;
            let (limb, b) = if d < 0 { (d + (1i128 << 64), 1) } else { (d, 0) };
            out.push(limb as u64);
            borrow = b;
        }
        let mut b = Big(out);
        b.trim();
        Some(b)
    }

    pub fn mul(&self, o: &Big) -> Big {
        let mut out = vec![0u64; self.0.len() + o.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in o.0.iter().enumerate() {
                let slot = out.get_mut(i + j).expect("the product has room for every limb pair");
                let t = u128::from(a) * u128::from(b) + u128::from(*slot) + carry;
                *slot = t as u64;
                carry = t >> 64;
            }
            let mut k = i + o.0.len();
            while carry > 0 {
                let slot = out.get_mut(k).expect("the final carry fits the product");
                let t = u128::from(*slot) + carry;
                *slot = t as u64;
                carry = t >> 64;
                k += 1;
            }
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    pub fn mul_u128(&self, n: u128) -> Big {
        self.mul(&Big::from_u128(n))
    }

    fn shl1_or(&mut self, bit: bool) {
        let mut carry = u64::from(bit);
        for l in &mut self.0 {
            let next = *l >> 63;
            *l = (*l << 1) | carry;
            carry = next;
        }
        if carry > 0 {
            self.0.push(carry);
        }
    }

    /// Quotient and remainder; `None` when dividing by zero.
    pub fn divmod(&self, d: &Big) -> Option<(Big, Big)> {
        if d.is_zero() {
            return None;
        }
        let n = self.bits();
        let mut q = vec![0u64; self.0.len()];
        let mut r = Big::zero();
        for i in (0..n).rev() {
            r.shl1_or(self.bit(i));
            if r.cmp(d) != Ordering::Less {
                r = r.sub(d).expect("r ≥ d was just compared");
                if let Some(l) = q.get_mut(i / 64) {
                    *l |= 1 << (i % 64);
                }
            }
        }
        let mut q = Big(q);
        q.trim();
        Some((q, r))
    }

    /// `⌊self / d⌋`, 0 for a zero divisor (callers never divide by zero).
    pub fn div(&self, d: &Big) -> Big {
        self.divmod(d).map_or_else(Big::zero, |(q, _)| q)
    }

    /// `⌊√self⌋`.
    pub fn isqrt(&self) -> Big {
        if self.is_zero() {
            return Big::zero();
        }
        // Start above the root: 2^⌈bits/2⌉.
        let mut x = Big::zero();
        let e = self.bits().div_ceil(2);
        x.0 = vec![0; e / 64 + 1];
        if let Some(l) = x.0.get_mut(e / 64) {
            *l = 1 << (e % 64);
        }
        loop {
            let y = x.add(&self.div(&x)).half();
            if y.cmp(&x) != Ordering::Less {
                return x;
            }
            x = y;
        }
    }

    fn half(&self) -> Big {
        let mut out = self.0.clone();
        let mut carry = 0u64;
        for l in out.iter_mut().rev() {
            let next = *l & 1;
            *l = (*l >> 1) | (carry << 63);
            carry = next;
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    pub fn gcd(&self, o: &Big) -> Big {
        let (mut a, mut b) = (self.clone(), o.clone());
        while !b.is_zero() {
            let r = a.divmod(&b).map_or_else(Big::zero, |(_, r)| r);
            a = b;
            b = r;
        }
        a
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, o: &Big) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Big {
    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
}

/// A non-negative fraction `num / den`, `den > 0`, kept reduced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub num: Big,
    pub den: Big,
}

impl Ratio {
    pub fn zero() -> Ratio {
        Ratio {
            num: Big::zero(),
            den: Big::from_u128(1),
        }
    }

    /// `num / den`, reduced; `den` must not be zero.
    pub fn new(num: Big, den: Big) -> Ratio {
        let g = num.gcd(&den);
        if g.is_zero() || g == Big::from_u128(1) {
            return Ratio { num, den };
        }
        Ratio {
            num: num.div(&g),
            den: den.div(&g),
        }
    }

    pub fn add(&self, o: &Ratio) -> Ratio {
        if self.den == o.den {
            return Ratio::new(self.num.add(&o.num), self.den.clone());
        }
        Ratio::new(self.num.mul(&o.den).add(&o.num.mul(&self.den)), self.den.mul(&o.den))
    }

    pub fn mul(&self, o: &Ratio) -> Ratio {
        Ratio::new(self.num.mul(&o.num), self.den.mul(&o.den))
    }

    /// `self / n`, `n > 0`.
    pub fn div_u128(&self, n: u128) -> Ratio {
        Ratio::new(self.num.clone(), self.den.mul_u128(n))
    }

    /// `self − o`; `None` when `o` is larger.
    pub fn sub(&self, o: &Ratio) -> Option<Ratio> {
        let a = self.num.mul(&o.den);
        let b = o.num.mul(&self.den);
        Some(Ratio::new(a.sub(&b)?, self.den.mul(&o.den)))
    }

    /// `self − o` rounded half up to hundredths, signed: `⌊100·(self − o) + ½⌋`.
    pub fn diff_hundredths(&self, o: &Ratio) -> i128 {
        let signed = |h: u128| i128::try_from(h).unwrap_or(i128::MAX);
        if let Some(d) = self.sub(o) {
            return signed(d.hundredths());
        }
        // self − o = −v < 0: ⌊−100·v + ½⌋ = −⌈100·v − ½⌉ = −⌊(200·num − den + 2·den − 1) / (2·den)⌋.
        let v = o.sub(self).unwrap_or_else(Ratio::zero);
        let twice = v.den.mul_u128(2);
        let up = match v.num.mul_u128(200).sub(&v.den) {
            Some(x) if !x.is_zero() => x
                .add(&twice)
                .sub(&Big::from_u128(1))
                .map_or(0, |y| y.div(&twice).to_u128().unwrap_or(0)),
            _ => 0,
        };
        -signed(up)
    }

    /// Rounded half up to hundredths: `⌊100·x + ½⌋`.
    pub fn hundredths(&self) -> u128 {
        let twice = self.den.mul_u128(2);
        let q = self.num.mul_u128(200).add(&self.den).div(&twice);
        q.to_u128().unwrap_or(u128::MAX)
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, o: &Ratio) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Ratio {
    fn cmp(&self, o: &Ratio) -> Ordering {
        self.num.mul(&o.den).cmp(&o.num.mul(&self.den))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: u128) -> Big {
        Big::from_u128(n)
    }

    #[test]
    fn arithmetic_matches_u128() {
        let (a, b) = (123_456_789_012_345_678_901u128, 987_654_321_987u128);
        assert_eq!(big(a).add(&big(b)).to_u128(), Some(a + b));
        assert_eq!(big(a).sub(&big(b)).and_then(|d| d.to_u128()), Some(a - b));
        assert_eq!(big(b).sub(&big(a)), None);
        let (q, r) = big(a).divmod(&big(b)).expect("b is not zero");
        assert_eq!((q.to_u128(), r.to_u128()), (Some(a / b), Some(a % b)));
        assert_eq!(big(a * 6).gcd(&big(b * 4)).to_u128(), Some(6)); // gcd(a, b) = 1 and 3 divides b
                                                                    // A product above u128, divided back.
        let p = big(a).mul(&big(a));
        assert_eq!(p.div(&big(a)).to_u128(), Some(a));
        assert_eq!(p.isqrt().to_u128(), Some(a));
        assert_eq!(p.add(&big(1)).isqrt().to_u128(), Some(a));
        assert_eq!(p.sub(&big(1)).map(|x| x.isqrt().to_u128()), Some(Some(a - 1)));
        assert_eq!(big(0).isqrt().to_u128(), Some(0));
        assert_eq!(big(1).isqrt().to_u128(), Some(1));
        assert_eq!(big(99).isqrt().to_u128(), Some(9));
    }

    #[test]
    fn rounds_half_up() {
        let r = |n, d| Ratio::new(big(n), big(d));
        assert_eq!(r(3125, 1000).hundredths(), 313); // 3.125 → 3.13
        assert_eq!(r(31249, 10000).hundredths(), 312);
        assert_eq!(r(100, 9).hundredths(), 1111);
        assert_eq!(r(1, 200).hundredths(), 1); // 0.005 → 0.01
        let zero = Ratio::zero();
        assert_eq!(zero.diff_hundredths(&r(6585, 1000)), -658); // −6.585 → −6.58
        assert_eq!(zero.diff_hundredths(&r(6586, 1000)), -659);
        assert_eq!(zero.diff_hundredths(&r(1, 1000)), 0);
        assert_eq!(r(3, 1).diff_hundredths(&r(1, 1)), 200);
        assert!(r(1, 3) < r(1, 2));
        assert_eq!(r(2, 4), r(1, 2));
    }
}
