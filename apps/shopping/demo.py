"""Demo data of the shopping app (`manage.py load_demo`): study goods and a student address.

Idempotent: commodities are matched by name, the address by (user, receiver). Areas come from
`load_areas`; with an empty area table the address is skipped.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.shopping.models import Commodity
from apps.users.models import Address, Area, User

# (name, price in yuan, stock, description)
GOODS: list[tuple[str, str, int, str]] = [
    ("A5 活页笔记本", "12.90", 200, "80 张加厚道林纸，可拆卸活页，方格内页。"),
    ("错题本（3 本装）", "15.80", 150, "左右分栏设计，记录错因与订正。"),
    ("0.5mm 中性笔（12 支）", "19.90", 300, "速干顺滑，考试专用黑色。"),
    ("自动铅笔 2B 套装", "16.50", 120, "含笔芯两盒与橡皮，适合涂卡。"),
    ("荧光笔（6 色）", "13.00", 180, "柔和色系，划重点不透纸。"),
    ("便利贴组合装", "9.90", 250, "多尺寸便签，标记书页与待办。"),
    ("考研英语词汇书", "45.00", 80, "高频词汇按真题频次排序，附音频。"),
    ("高等数学习题全解", "59.90", 60, "同济版教材配套，逐题详解。"),
    ("线性代数辅导讲义", "39.80", 70, "核心概念与典型题型归纳。"),
    ("Python 编程入门", "69.00", 50, "从零开始的程序设计教材，含练习。"),
    ("数据结构与算法图解", "79.00", 40, "图解常用数据结构，配套代码。"),
    ("英汉双解词典", "88.00", 30, "收词 6 万，例句丰富。"),
    ("科学计算器", "128.00", 25, "支持 240 种函数，考试可用。"),
    ("护眼台灯", "159.00", 20, "无频闪，三档色温，USB 充电。"),
    ("桌面书立（2 个）", "22.00", 90, "金属材质，防滑底垫。"),
    ("文件收纳袋（10 个）", "14.90", 160, "A4 拉链袋，按科目分类。"),
    ("番茄计时器", "25.00", 75, "专注 25 分钟，静音机芯。"),
    ("单词卡片（500 张）", "18.80", 110, "可挂环，随身背诵。"),
    ("降噪耳塞（3 对）", "16.00", 140, "自习室与宿舍专用。"),
    ("帆布双肩书包", "99.00", 35, "大容量分层设计，可放 15 寸电脑。"),
]

DEMO_USERNAME = "student"
DEMO_RECEIVER = "演示学生"


def _pick_district() -> Area | None:
    """A district whose chain is province → city → district (Beijing Dongcheng if present)."""
    districts = Area.objects.filter(
        parent__isnull=False, parent__parent__isnull=False, parent__parent__parent__isnull=True
    ).select_related("parent__parent")
    return districts.filter(pk=110101).first() or districts.order_by("id").first()


@transaction.atomic
def load(*, stdout: Any, options: dict[str, Any]) -> None:
    """Create the demo commodities and the `student` user's default address (idempotent)."""
    existing = set(Commodity.objects.filter(is_delete=False).values_list("name", flat=True))
    new = [
        Commodity(name=name, price=Decimal(price), stock=stock, description=description)
        for name, price, stock, description in GOODS
        if name not in existing
    ]
    Commodity.objects.bulk_create(new)
    stdout.write(f"   commodities: {len(new)} created, {len(GOODS) - len(new)} already there")

    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        stdout.write("   address: skipped (no demo user `student`)")
        return
    if Address.objects.filter(user=user, receiver=DEMO_RECEIVER, is_delete=False).exists():
        stdout.write("   address: already there")
        return
    district = _pick_district()
    if district is None:
        stdout.write("   address: skipped (area table is empty; run load_areas)")
        return
    Address.objects.create(
        user=user,
        receiver=DEMO_RECEIVER,
        province=district.parent.parent,
        city=district.parent,
        district=district,
        place="学院路 1 号 3 号楼 201 室",
        mobile="13800000000",
        is_default=not Address.objects.filter(user=user, is_delete=False).exists(),
    )
    stdout.write("   address: created for `student`")
