"""Spotting contact details in chat: sellers and buyers who move a deal to WeChat or a
phone call lose the platform's escrow, so the recipient is warned."""

from __future__ import annotations

import re
import unicodedata

# Mainland mobile numbers, also written with spaces or dashes between the digits.
_PHONE = re.compile(r"(?<!\d)1[\s-]?[3-9](?:[\s-]?\d){9}(?!\d)")
# "微信/VX/WX/v信/威信/薇信 + an id", or "加我 + an id".
_WECHAT = re.compile(
    r"(?:微信|威信|薇信|维信|v信|vx|wx|weixin|wechat|加我|加v)[\s:：号是为]*[A-Za-z][-_A-Za-z0-9]{5,19}",
    re.IGNORECASE,
)
_QQ = re.compile(r"(?:qq|扣扣|企鹅)[\s:：号是为]*[1-9]\d{4,11}", re.IGNORECASE)
# Digits spelled out in Chinese to dodge filters: 一三八..., 幺 being 1 read out aloud.
_CHINESE_DIGITS = str.maketrans(
    "零〇幺一二三四五六七八九壹贰叁肆伍陆柒捌玖", "001123456789123456789"
)


def has_contact_details(text: str) -> bool:
    normalized = unicodedata.normalize("NFKC", text).translate(_CHINESE_DIGITS)
    return any(pattern.search(normalized) for pattern in (_PHONE, _WECHAT, _QQ))
