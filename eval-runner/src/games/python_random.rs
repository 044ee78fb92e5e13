//! CPython's `random` module as far as codenames' opponent uses it: the
//! Mersenne Twister seeded from an integer, and `random.sample`. Same seed,
//! same calls, same picks as Python.

const N: usize = 624;
const M: usize = 397;

/// MT19937, seeded as `random.seed(n)` seeds it.
pub struct PythonRandom {
    state: [u32; N],
    index: usize,
}

impl PythonRandom {
    /// `random.seed(seed)` for a seed below 2^32 (Python takes the integer's 32-bit words as the key).
    pub fn seeded(seed: u32) -> Self {
        let mut rng = Self {
            state: [0; N],
            index: N,
        };
        rng.init_by_array(&[seed]);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.state[0] = seed;
        for i in 1..N {
            let previous = self.state[i - 1];
            self.state[i] = 1_812_433_253u32
                .wrapping_mul(previous ^ (previous >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1, 0);
        for _ in 0..N.max(key.len()) {
            let previous = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.state[0] = self.state[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let previous = self.state[i - 1];
            self.state[i] = (self.state[i]
                ^ (previous ^ (previous >> 30)).wrapping_mul(1_566_083_941))
            .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.state[0] = self.state[N - 1];
                i = 1;
            }
        }
        self.state[0] = 0x8000_0000;
    }

    fn twist(&mut self) {
        for i in 0..N {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % N] & 0x7fff_ffff);
            let mut next = self.state[(i + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                next ^= 0x9908_b0df;
            }
            self.state[i] = next;
        }
        self.index = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.getrandbits(bits)` for 1 to 32 bits.
    fn getrandbits(&mut self, bits: u32) -> u32 {
        self.next_u32() >> (32 - bits)
    }

    /// `random._randbelow(n)`: uniform in `0..n` by rejection, for n ≥ 1.
    fn below(&mut self, n: usize) -> usize {
        let bits = usize::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(bits) as usize;
            if r < n {
                return r;
            }
        }
    }

    /// `random.sample(population, k)`, with both of Python's strategies
    /// (a shrinking pool for small populations, a set of picks for large ones).
    pub fn sample<T: Clone>(&mut self, population: &[T], k: usize) -> Vec<T> {
        let n = population.len();
        assert!(k <= n, "sample larger than population");
        let mut setsize = 21;
        if k > 5 {
            // 4 ** ceil(log4(3k)); 3k is never a power of 4.
            let mut table = 1;
            while table < 3 * k {
                table *= 4;
            }
            setsize += table;
        }
        if n <= setsize {
            let mut pool = population.to_vec();
            (0..k)
                .map(|i| {
                    let j = self.below(n - i);
                    let picked = pool[j].clone();
                    pool[j] = pool[n - i - 1].clone();
                    picked
                })
                .collect()
        } else {
            let mut selected = std::collections::HashSet::new();
            (0..k)
                .map(|_| {
                    let mut j = self.below(n);
                    while !selected.insert(j) {
                        j = self.below(n);
                    }
                    population[j].clone()
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by CPython 3.11 for the same seeds and calls.
    #[test]
    fn the_stream_matches_cpython() {
        let mut rng = PythonRandom::seeded(42);
        let words: Vec<u32> = (0..3).map(|_| rng.getrandbits(32)).collect();
        assert_eq!(words, [2746317213, 478163327, 107420369]);
    }

    #[test]
    fn samples_match_cpython_in_both_strategies() {
        let letters: Vec<char> = "abcdefgh".chars().collect();
        let mut rng = PythonRandom::seeded(42);
        assert_eq!(rng.sample(&letters, 2), ['b', 'a']);
        assert_eq!(rng.sample(&letters, 1), ['e']);
        let hundred: Vec<u32> = (0..100).collect();
        assert_eq!(
            rng.sample(&hundred, 10),
            [31, 28, 17, 94, 13, 86, 69, 11, 75, 54]
        );

        let thirty: Vec<u32> = (0..30).collect();
        let mut rng = PythonRandom::seeded(7);
        assert_eq!(
            rng.sample(&thirty, 25),
            [
                10, 4, 12, 20, 1, 2, 17, 3, 11, 18, 25, 16, 6, 19, 24, 23, 14, 26, 22, 27, 8, 13,
                0, 9, 28
            ]
        );
    }

    #[test]
    fn an_empty_sample_draws_nothing() {
        let mut rng = PythonRandom::seeded(42);
        assert!(rng.sample(&[1, 2, 3], 0).is_empty());
        assert_eq!(rng.getrandbits(32), 2746317213);
    }
}
