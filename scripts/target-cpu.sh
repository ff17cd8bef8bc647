#!/usr/bin/env bash
# Prints the CPU to compile drht's compute targets for (Package.swift reads it from the
# environment as DRHT_TARGET_CPU; the Makefile sets it from this script): the machine's widest
# vector extensions that swiftc knows a CPU name for, or "baseline".
#   AVX-512 F, CD, BW, DQ, VL            -> skylake-avx512
#   AVX2, FMA, BMI2, F16C, MOVBE, LZCNT  -> haswell
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n')
has() { for f in "$@"; do grep -qx "$f" <<<"$flags" || return 1; done; }
if [ "$(uname -m)" != x86_64 ]; then echo baseline
elif has avx512f avx512cd avx512bw avx512dq avx512vl avx2 fma bmi2 f16c movbe abm; then echo skylake-avx512
elif has avx2 fma bmi2 f16c movbe abm; then echo haswell
else echo baseline
fi
