//! A fixed pseudo-random sequence for tests (xorshift64), so that random cases repeat exactly.

/// The sequence's state.
pub(crate) struct Xorshift(u64);

impl Xorshift {
    /// The sequence from its usual seed.
    pub(crate) fn new() -> Xorshift {
        Xorshift(0x2545_f491_4f6c_dd1d)
    }

    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next number below `bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}
