"""compare --prefer: how the verdict weighs pull size against start-up and memory."""

from __future__ import annotations

from slimgo.compare.prefer import BOUND, Metrics, choose

MiB = 1024 * 1024
SW = Metrics("ldflags-sw", 2_400_000, 3.0, 8 * MiB)
UPX = Metrics("upx", 1_800_000, 95.0, 15 * MiB)  # smaller pull, slower, more memory: what UPX measures
ZSTD = Metrics("zstd", 2_100_000, 3.2, 8 * MiB)
SCRATCH = Metrics("scratch", 2_300_000, 2.5, 7 * MiB)


def test_balanced_excludes_what_is_outside_the_bound_and_says_why() -> None:
    name, excluded = choose([SW, UPX, ZSTD, SCRATCH], "balanced", SW)
    assert name == "zstd"
    assert set(excluded) == {"upx"} and "start-up 95.0 ms vs 3.0 ms" in excluded["upx"]
    assert "peak RSS" in excluded["upx"]
    assert "10% + 5 ms" in BOUND and "10% + 2 MiB" in BOUND


def test_balanced_keeps_upx_when_its_cost_is_within_the_bound() -> None:
    cheap = Metrics("upx", 1_800_000, 7.5, 9 * MiB)  # 3.0 * 1.1 + 5 = 8.3 ms; 8.8 + 2 MiB
    assert choose([SW, cheap, ZSTD], "balanced", SW) == ("upx", {})


def test_a_packer_is_weighed_by_the_cpu_and_private_memory_it_adds() -> None:
    # On a busy machine the wall times and the RSS (file pages included) can hide UPX's cost; the paired
    # measurement cannot.
    hidden = Metrics("upx", 1_800_000, 3.1, 8 * MiB, added_cpu_ms=36.0, added_private=5 * MiB)
    name, excluded = choose([SW, hidden, ZSTD], "balanced", SW)
    assert name == "zstd" and "+36.0 ms CPU" in excluded["upx"] and "private memory" in excluded["upx"]
    small = Metrics("upx", 1_800_000, 3.1, 8 * MiB, added_cpu_ms=4.0, added_private=1 * MiB)
    assert choose([SW, small, ZSTD], "balanced", SW) == ("upx", {})


def test_unmeasured_metrics_do_not_exclude() -> None:
    unknown = Metrics("upx", 1_800_000, None, None)
    assert choose([SW, unknown], "balanced", SW)[0] == "upx"
    assert choose([SW, UPX], "balanced", None)[0] == "upx"  # no reference measured: nothing to bound against


def test_explicit_preferences() -> None:
    variants = [SW, UPX, ZSTD, SCRATCH]
    assert choose(variants, "pull", SW)[0] == "upx"
    assert choose(variants, "startup", SW)[0] == "scratch"
    assert choose(variants, "memory", SW)[0] == "scratch"
    assert choose([], "balanced", SW) == (None, {})
