"""The two-level category tree of a second-hand market, as data, and its one-time insert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.categories.models import Category


@dataclass(frozen=True, slots=True)
class SubCategory:
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class TopCategory:
    name: str
    slug: str
    children: tuple[SubCategory, ...]


def _top(name: str, slug: str, *children: tuple[str, str]) -> TopCategory:
    return TopCategory(name, slug, tuple(SubCategory(n, s) for n, s in children))


# Order is display order on the home page's category grid. Every top level ends with an
# "其他…" child so a seller never has to force goods into a wrong category.
TAXONOMY: tuple[TopCategory, ...] = (
    _top(
        "手机",
        "phones",
        ("苹果手机", "iphone"),
        ("安卓手机", "android-phones"),
        ("老人机/功能机", "feature-phones"),
        ("手机配件", "phone-accessories"),
        ("充电宝/充电器", "chargers-power-banks"),
        ("其他手机", "phones-other"),
    ),
    _top(
        "数码",
        "digital",
        ("耳机", "headphones"),
        ("智能手表/手环", "smartwatches"),
        ("平板电脑", "tablets"),
        ("相机", "cameras"),
        ("镜头", "camera-lenses"),
        ("无人机", "drones"),
        ("音箱", "speakers"),
        ("电子书阅读器", "e-readers"),
        ("其他数码", "digital-other"),
    ),
    _top(
        "电脑办公",
        "computers",
        ("笔记本电脑", "laptops"),
        ("台式机/主机", "desktops"),
        ("显示器", "monitors"),
        ("电脑硬件", "pc-components"),
        ("键盘鼠标", "keyboards-mice"),
        ("打印机/办公设备", "printers"),
        ("网络设备", "networking"),
        ("其他电脑办公", "computers-other"),
    ),
    _top(
        "家用电器",
        "appliances",
        ("大家电", "major-appliances"),
        ("厨房电器", "kitchen-appliances"),
        ("清洁电器", "cleaning-appliances"),
        ("生活电器", "small-appliances"),
        ("个护电器", "personal-care-appliances"),
        ("其他家电", "appliances-other"),
    ),
    _top(
        "服饰鞋包",
        "fashion",
        ("女装", "womens-clothing"),
        ("男装", "mens-clothing"),
        ("运动鞋", "sneakers"),
        ("女鞋", "womens-shoes"),
        ("男鞋", "mens-shoes"),
        ("箱包", "bags"),
        ("配饰", "fashion-accessories"),
        ("其他服饰", "fashion-other"),
    ),
    _top(
        "美妆个护",
        "beauty",
        ("护肤", "skincare"),
        ("彩妆", "makeup"),
        ("香水", "perfume"),
        ("美发护发", "hair-care"),
        ("美容仪器", "beauty-devices"),
        ("其他美妆个护", "beauty-other"),
    ),
    _top(
        "图书音像",
        "books",
        ("教材教辅", "textbooks"),
        ("考研考公", "exam-prep"),
        ("文学小说", "fiction"),
        ("漫画绘本", "comics"),
        ("童书", "childrens-books"),
        ("黑胶唱片/CD", "vinyl-cd"),
        ("其他图书音像", "books-other"),
    ),
    _top(
        "母婴",
        "baby",
        ("婴儿车", "strollers"),
        ("安全座椅", "car-seats"),
        ("童装童鞋", "kids-clothing"),
        ("儿童玩具", "toys"),
        ("喂养用品", "feeding"),
        ("孕产用品", "maternity"),
        ("其他母婴", "baby-other"),
    ),
    _top(
        "运动户外",
        "sports",
        ("健身器材", "fitness"),
        ("球类运动", "ball-sports"),
        ("骑行装备", "cycling-gear"),
        ("露营装备", "camping"),
        ("滑雪装备", "skiing"),
        ("钓鱼装备", "fishing"),
        ("运动服饰", "sportswear"),
        ("其他运动户外", "sports-other"),
    ),
    _top(
        "游戏",
        "games",
        ("游戏主机", "consoles"),
        ("掌机", "handhelds"),
        ("游戏卡带/光盘", "game-discs"),
        ("手柄/外设", "controllers"),
        ("桌游/卡牌", "board-games"),
        ("其他游戏", "games-other"),
    ),
    _top(
        "乐器",
        "instruments",
        ("吉他", "guitars"),
        ("钢琴/电钢琴", "pianos"),
        ("尤克里里", "ukuleles"),
        ("电子琴/合成器", "keyboards-synths"),
        ("民族乐器", "chinese-instruments"),
        ("鼓", "drums"),
        ("音频设备", "audio-gear"),
        ("其他乐器", "instruments-other"),
    ),
    _top(
        "家居日用",
        "home",
        ("家具", "furniture"),
        ("床上用品", "bedding"),
        ("灯具", "lighting"),
        ("厨具餐具", "cookware"),
        ("收纳整理", "storage"),
        ("家居装饰", "decor"),
        ("其他家居日用", "home-other"),
    ),
    _top(
        "珠宝奢品",
        "luxury",
        ("奢侈品包袋", "luxury-bags"),
        ("名表", "watches"),
        ("黄金", "gold"),
        ("珠宝首饰", "jewelry"),
        ("其他奢品", "luxury-other"),
    ),
    _top(
        "出行工具",
        "mobility",
        ("电动车", "e-bikes"),
        ("自行车", "bicycles"),
        ("滑板车/平衡车", "scooters"),
        ("摩托车", "motorcycles"),
        ("汽车用品", "car-accessories"),
        ("其他出行", "mobility-other"),
    ),
    _top(
        "宠物用品",
        "pets",
        ("猫咪用品", "cat-supplies"),
        ("狗狗用品", "dog-supplies"),
        ("水族用品", "aquarium"),
        ("宠物窝/笼", "pet-houses"),
        ("其他宠物用品", "pets-other"),
    ),
    _top(
        "潮玩收藏",
        "collectibles",
        ("手办模型", "figures"),
        ("盲盒", "blind-boxes"),
        ("乐高积木", "lego"),
        ("邮票钱币", "stamps-coins"),
        ("明星周边", "fandom-merch"),
        ("其他收藏", "collectibles-other"),
    ),
)


def top_level_of() -> Mapping[str, str]:
    """Each subcategory's slug mapped to its top level's slug (whose photo it borrows)."""
    return {child.slug: top.slug for top in TAXONOMY for child in top.children}


def ensure_categories(session: Session) -> int:
    """Insert the tree if there are no categories yet; returns how many rows were added.

    Any existing category means an operator owns the tree now, so it is left alone.
    """
    if session.scalar(select(Category.id).limit(1)) is not None:
        return 0
    tops = [
        Category(name=top.name, slug=top.slug, position=position, active=True)
        for position, top in enumerate(TAXONOMY)
    ]
    session.add_all(tops)
    # The children need their parents' ids.
    session.flush()
    children = [
        Category(parent_id=parent.id, name=child.name, slug=child.slug, position=pos, active=True)
        for parent, top in zip(tops, TAXONOMY, strict=True)
        for pos, child in enumerate(top.children)
    ]
    session.add_all(children)
    session.flush()
    return len(tops) + len(children)
