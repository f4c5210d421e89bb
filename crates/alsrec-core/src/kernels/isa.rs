//! The instruction set the kernels run on, chosen once per process.
use std::sync::OnceLock;

/// The instruction set the kernels run on: a token that can only be made for a CPU that has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isa(Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    /// AVX2 + FMA, and AVX-512F for the kernels that have a 16-lane body (the Gram product).
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The best instruction set of this CPU, probed once per process.
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| Isa::available().pop().unwrap_or(Isa::portable()))
    }

    /// Plain Rust loops: any CPU.
    pub fn portable() -> Isa {
        Isa(Kind::Portable)
    }

    /// Every instruction set this CPU can run, portable first: what the kernel tests compare.
    pub fn available() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut all = vec![Isa::portable()];
        #[cfg(target_arch = "x86_64")]
        // F16C rides along: every AVX2 CPU has it, and the query scan reads f16 rows.
        if std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
        {
            all.push(Isa(Kind::Avx2Fma));
            if std::is_x86_feature_detected!("avx512f") {
                all.push(Isa(Kind::Avx512));
            }
        }
        all
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2Fma => "avx2+fma",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512 => "avx512f+avx2+fma",
        }
    }

    /// True for the AVX2 + FMA tokens (only ever made on a CPU that has both, and F16C).
    #[inline(always)]
    pub(crate) fn has_avx2_fma(self) -> bool {
        match self.0 {
            Kind::Portable => false,
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2Fma | Kind::Avx512 => true,
        }
    }

    /// True for the AVX-512 token (only ever made on a CPU with AVX-512F, AVX2, FMA and F16C).
    #[inline(always)]
    pub(crate) fn has_avx512(self) -> bool {
        match self.0 {
            Kind::Portable => false,
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2Fma => false,
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512 => true,
        }
    }

    /// Runs `body` compiled for this instruction set: with AVX2 + FMA, `body` (mark the closure
    /// `#[inline(always)]`) is inlined into a function compiled with those features, so the
    /// small vector helpers it inlines ([`dot`], [`dense::axpy`], [`dense::copy_row`]) use
    /// 8-lane instructions. The arithmetic is the same either way; only its speed differs.
    #[inline(always)]
    pub fn run<R>(self, body: impl FnOnce() -> R) -> R {
        match self.0 {
            Kind::Portable => body(),
            #[cfg(target_arch = "x86_64")]
            // The AVX-512 token compiles `body` for AVX2 as well: the helpers it inlines then
            // vectorize exactly as under the AVX2 token, so both give the same bits; only the
            // kernels with a 16-lane body of their own use AVX-512.
            Kind::Avx2Fma | Kind::Avx512 => {
                /// # Safety
                /// The CPU must support AVX2 and FMA.
                #[target_feature(enable = "avx2,fma")]
                unsafe fn compiled_for_avx2<R>(body: impl FnOnce() -> R) -> R {
                    body()
                }
                // SAFETY: an `Avx2Fma` token is only made when the CPU has both features.
                unsafe { compiled_for_avx2(body) }
            }
        }
    }
}

/// `n` rounded up to whole 8-lane vectors: the row stride of the systems and CG blocks, so the
/// vector loops need no edge cases.
#[inline(always)]
pub fn lane_stride(n: usize) -> usize {
    n.div_ceil(8) * 8
}
