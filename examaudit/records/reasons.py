"""One-sentence reasons, in Chinese and English, that an auditor can read aloud.

Each function takes the numbers a screen produced and returns ``(zh, en)``. Keeping the
wording here means the CSV ``reasons`` column, the findings and the report say the same thing.
"""

from __future__ import annotations


def pass_rate(rate: float, target: float, n: int, z: float) -> tuple[str, str]:
    return (f"通过率{rate:.0%}，全省{target:.0%}（{n}人，z={z:.1f}）",
            f"pass rate {rate:.0%} against {target:.0%} province-wide (n={n}, z={z:.1f})")


def bunching(share: float, target: float, n: int, width: float) -> tuple[str, str]:
    return (f"及格线附近±{width:.3g}分的{n}人中{share:.0%}恰好及格（平滑分布预期{target:.0%}）",
            f"{share:.0%} of the {n} scores within {width:.3g} points of the pass mark sit just above it (smooth fit expects {target:.0%})")


def fast_completion(rate: float, target: float, threshold_s: float, n: int) -> tuple[str, str]:
    return (f"{rate:.0%}的考生用时少于{threshold_s / 60:.0f}分钟（全省{target:.0%}，{n}人）",
            f"{rate:.0%} finished in under {threshold_s / 60:.0f} min against {target:.0%} province-wide (n={n})")


def response_patterns(k: int, n: int, rate: float, target: float) -> tuple[str, str]:
    return (f"{k}/{n}名考生作答模式或用时异常（{rate:.1%}，全省{target:.1%}）",
            f"{k} of {n} candidates with aberrant answer or timing patterns ({rate:.1%} against {target:.1%})")


def similarity_share(k: int, n: int, clusters: int) -> tuple[str, str]:
    return (f"{k}/{n}名考生答卷雷同，{clusters}个雷同群",
            f"{k} of {n} candidates in answer-similarity pairs, {clusters} cluster(s)")


CALLBACK_WORDS = {
    "no_training": ("回访称未参加培训", "said they did not attend training"),
    "not_in_person": ("回访称非本人参考", "said they did not sit the exam in person"),
    "paid_intermediary": ("回访称通过中介缴费", "said they paid an intermediary"),
    "unreachable": ("回访无法接通或号码错误", "unreachable or wrong number on callback"),
}


def callback_rate(indicator: str, k: int, n: int, rate: float, target: float) -> tuple[str, str]:
    zh, en = CALLBACK_WORDS[indicator]
    return (f"{zh}{k}/{n}（{rate:.0%}，全省{target:.0%}）", f"{k} of {n} {en} ({rate:.0%} against {target:.0%})")


def certificates(k: int, n: int) -> tuple[str, str]:
    return (f"{k}/{n}张证书与成绩或录像不符", f"{k} of {n} certificates do not match a pass or the video")


def person_misfit(lz: float) -> tuple[str, str]:
    return (f"作答模式与能力不符（lz*={lz:.1f}）", f"answer pattern does not fit the candidate's ability (lz*={lz:.1f})")


def rt_aberrance(lt: float, df: int) -> tuple[str, str]:
    return (f"作答用时模式异常（l_t={lt:.0f}，自由度{df}）", f"implausible response times (l_t={lt:.0f} on {df} df)")


def rapid_correct(t: float, rapid: int, rapid_right: int, expected: float) -> tuple[str, str]:
    return (f"极速作答却多半答对（{rapid}道远快于本人节奏的题答对{rapid_right}道，按能力预期{expected:.1f}道；T={t:.1f}）",
            f"right where unusually fast ({rapid_right} of {rapid} very fast answers right, "
            f"{expected:.1f} expected from ability; T={t:.1f})")


def preknowledge(z: float, d_time: float, d_score: float) -> tuple[str, str]:
    return (f"疑似提前知悉试题：在疑似泄露题上比其余题更快且更准（Z={z:.1f}；提速{d_time:.1f}，超额答对{d_score:.1f}个标准差）",
            f"suspected item preknowledge: faster and more often right on the suspected leaked items than on the rest "
            f"(Z={z:.1f}; speed-up {d_time:.1f}, excess right {d_score:.1f} standard deviations)")


def item_compromise(item: str, suspects: int, ratio: float, right: float, expected: float) -> tuple[str, str]:
    return (f"试题{item}疑似泄露：{suspects}名疑似知悉试题的考生用时为他人的{ratio:.0%}，答对率{right:.0%}（按能力预期{expected:.0%}），建议停用",
            f"item {item} looks leaked: {suspects} suspected candidates took {ratio:.0%} of others' time and got it right "
            f"{right:.0%} of the time ({expected:.0%} expected from ability); retire it")


def similar_to(partner: str, matches: int, items: int, same_wrong: int, expected_wrong: float) -> tuple[str, str]:
    return (f"与{partner}答案雷同：{matches}/{items}题相同，相同错误{same_wrong}个（预期{expected_wrong:.1f}）",
            f"answers match {partner} on {matches} of {items} items, {same_wrong} identical wrong answers (expected {expected_wrong:.1f})")


def admitted_not_in_person() -> tuple[str, str]:
    return ("回访中本人承认未亲自参加考试", "admitted on callback that someone else sat the exam")


def callback_other(no_training: bool, paid: bool) -> tuple[str, str]:
    zh = "、".join([w for w, f in (("未参加培训", no_training), ("通过中介缴费", paid)) if f])
    en = " and ".join([w for w, f in (("skipped training", no_training), ("paid an intermediary", paid)) if f])
    return (f"回访称{zh}", f"said on callback they {en}")


def certificate_problem(kind: str) -> tuple[str, str]:
    return {"certificate_without_pass": ("持证但无合格成绩", "holds a certificate without a matching pass"),
            "multiple_certificates": ("同一类别持有多张证书", "holds several certificates of one category"),
            "certificate_absent_on_video": ("录像显示缺考但已发证", "certified although absent on video")}[kind]


def absent_on_video() -> tuple[str, str]:
    return ("录像显示考位无人但有成绩", "has a score although the seat was empty on video")
