"""The built-in unit directory: aliases, group expressions, placeholders, segmentation."""

from __future__ import annotations

from ecoplan.units.directory import UnitDirectory, normalize_name


def test_group_expressions_expand() -> None:
    d = UnitDirectory.builtin()
    # 16 district governments + the 经开区 management committee = 17.
    assert len(d.resolve("各区政府(含北京经济技术开发区管委会)").units) == 17
    assert len(d.resolve("各区政府").units) == 16
    # 门头沟、平谷、怀柔、密云、延庆 (full) + 房山、昌平 (mountain parts) = 7.
    assert len(d.resolve("生态涵养区各区政府").units) == 7


def test_placeholders_and_aliases() -> None:
    d = UnitDirectory.builtin()
    for text in ("相关区政府", "各相关区", "有条件的区", "具备条件的区"):
        resolution = d.resolve(text)
        assert resolution.kind == "placeholder" and resolution.group is not None
        assert resolution.group.scope == "district"
    assert d.resolve("市规自委").units[0].name == "市规划自然资源委"
    assert d.resolve("北京市生态环境局").units[0].name == "市生态环境局"
    assert d.resolve("经开区管委会").units[0].name == "北京经济技术开发区管委会"
    assert d.resolve("市公安局等").kind == "unit"  # a trailing 等 does not change the unit
    assert d.resolve("市宇宙局").kind == "unknown"


def test_normalize_and_segment() -> None:
    d = UnitDirectory.builtin()
    assert (
        normalize_name(" 各区政府\n(含北京经济技术\n开发区管委会) ")
        == "各区政府(含北京经济技术开发区管委会)"
    )
    assert d.segment("市水务局相关区政府市发展改革委") == ["市水务局", "相关区政府", "市发展改革委"]
    assert d.segment("这不是单位名称的一句话。") is None
