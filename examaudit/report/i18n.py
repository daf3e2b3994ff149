"""The report's UI strings in Chinese and English: one table, looked up with :func:`tr`.

Finding titles come from :data:`examaudit.findings.KIND_TITLES`; reasons are in each finding.
"""

from __future__ import annotations

LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("考点审计报告", "Exam-point audit report"),
    "subtitle": ("建筑施工特种作业人员考核考点专项检查", "Construction special-operations certificate exam centre inspection"),
    "exam_point": ("考点", "Exam point"),
    "city": ("地市", "City"),
    "audit_time": ("审计时间", "Audited"),
    "tool_version": ("工具版本", "Tool version"),
    "not_provided": ("未提供", "not provided"),
    "none_found": ("未发现", "none found"),
    "contents": ("目录", "Contents"),
    # sections
    "s_summary": ("一、审计结论", "1. Summary"),
    "s_coverage": ("二、录像覆盖情况", "2. Footage coverage"),
    "s_findings": ("三、发现的问题", "3. Findings"),
    "s_seats": ("四、考位占用情况", "4. Seat occupancy"),
    "s_records": ("五、考试记录分析", "5. Exam records"),
    "s_action": ("六、处理建议", "6. Recommended action"),
    "s_signoff": ("七、审核签字", "7. Auditor sign-off"),
    "s_appendix": ("附录：方法与参数", "Appendix: methods and parameters"),
    # summary
    "risk_level": ("风险等级", "Risk level"),
    # review decisions (server reviewers)
    "review_confirmed": ("复核：确认", "Review: confirmed"),
    "review_dismissed": ("复核：已排除", "Review: dismissed"),
    "review_unsure": ("复核：待定", "Review: unsure"),
    "review_not_counted": ("不计入风险", "not counted in the risk"),
    "review_comment": ("理由", "reason"),
    "risk_high": ("高风险", "High risk"),
    "risk_medium": ("中风险", "Medium risk"),
    "risk_low": ("低风险", "Low risk"),
    "risk_none": ("未发现异常", "No irregularities found"),
    "risk_score": ("风险分", "Risk score"),
    "strongest_reasons": ("主要依据", "Strongest reasons"),
    "finding_counts": ("问题数量", "Findings"),
    "by_severity": ("按严重程度", "by severity"),
    # severities
    "sev_critical": ("严重", "critical"),
    "sev_high": ("高", "high"),
    "sev_medium": ("中", "medium"),
    "sev_low": ("低", "low"),
    "sev_info": ("提示", "info"),
    # coverage
    "room": ("考场", "Room"),
    "camera": ("摄像机", "Camera"),
    "recording": ("录像文件", "Recording"),
    "duration": ("时长", "Duration"),
    "footage_start": ("录像起始", "Footage start"),
    "gaps": ("缺失段", "Gaps"),
    "missing_time": ("缺失时长", "Missing"),
    "session": ("场次", "Session"),
    "covered": ("覆盖率", "Covered"),
    "coverage_chart": ("录像时间轴（绿色为有画面，红色为缺失，三角为问题位置）",
                       "Footage timeline (green: pictures, red: missing, triangles: findings)"),
    "coverage_estimated": ("据抽样估算", "estimated from samples"),
    "no_recordings": ("本次审计未分析录像。", "No footage was analysed in this audit."),
    # findings
    "severity": ("严重程度", "Severity"),
    "kind": ("问题类型", "Kind"),
    "wall_clock": ("北京时间", "Wall clock"),
    "footage_time": ("录像时间", "Footage time"),
    "confidence": ("置信度", "Confidence"),
    "reason": ("依据", "Reason"),
    "evidence": ("证据", "Evidence"),
    "details": ("详细数据", "Details"),
    "candidate": ("考生", "Candidate"),
    "source": ("来源", "Source"),
    "frame_missing": ("证据图片缺失", "evidence picture missing"),
    "no_findings": ("未发现问题。", "No findings."),
    # seats
    "seat": ("考位", "Seat"),
    "seat_grid_chart": ("考位占用（深色为有人，浅色为空，灰色为画面不可信）",
                        "Seat occupancy (dark: occupied, light: empty, grey: picture untrusted)"),
    "minutes_present": ("在位分钟", "Minutes present"),
    "first_seen": ("首次出现", "First seen"),
    "last_seen": ("最后出现", "Last seen"),
    "occupied_share": ("在位比例", "Occupied share"),
    # records
    "score_hist": ("成绩分布（虚线为合格线）", "Score distribution (dashed: pass mark)"),
    "funnel": ("通过率漏斗图（各考点通过率与考生数，曲线为 95% / 99.8% 控制限）",
               "Pass-rate funnel plot (pass rate by candidates; curves: 95% / 99.8% control limits)"),
    "times": ("答题用时分布", "Completion-time distributions"),
    "clusters": ("雷同答卷群", "Similarity clusters"),
    "callbacks": ("电话回访异常率（含置信区间）", "Callback rates with intervals"),
    "certificates": ("证书交叉核验", "Certificate cross-checks"),
    "exam_points_table": ("考点统计", "Exam-point statistics"),
    "validation": ("数据校验问题", "Record validation problems"),
    "candidates_table": ("考生记录（节选）", "Candidate records (extract)"),
    "other_stats": ("其他统计", "Other statistics"),
    "members": ("成员", "Members"),
    "similarity": ("相似度", "Similarity"),
    "rate": ("比例", "Rate"),
    "interval": ("区间", "Interval"),
    "count": ("数量", "Count"),
    "pass_mark": ("合格线", "Pass mark"),
    "minutes": ("分钟", "minutes"),
    "score": ("成绩", "Score"),
    "candidates_n": ("考生数", "Candidates"),
    "pass_rate": ("通过率", "Pass rate"),
    "this_point": ("本考点", "This exam point"),
    "other_points": ("其他考点", "Other exam points"),
    "rows_shown": ("显示前 {n} 行，共 {total} 行", "first {n} of {total} rows"),
    # action
    "action": ("建议措施", "Action"),
    "action_rule": ("判定规则", "Rule"),
    "act_none": ("继续监测", "Keep monitoring"),
    "act_rectify": ("限期整改", "Rectify by a deadline"),
    "act_suspend": ("停业整改", "Suspend and rectify"),
    "act_police": ("移送公安机关", "Refer to the police"),
    "triggered_by": ("触发依据", "Triggered by"),
    # sign-off
    "auditor": ("审核人", "Auditor"),
    "reviewer": ("复核人", "Reviewer"),
    "approver": ("负责人", "Approved by"),
    "signature": ("签字", "Signature"),
    "date": ("日期", "Date"),
    "seal": ("单位（盖章）", "Organisation (seal)"),
    "signoff_note": ("本报告由 examaudit 自动生成初稿，结论须经审核人员核实录像与记录原件后签字确认。",
                     "This report is a draft generated by examaudit; its conclusions stand only once an auditor has "
                     "checked the original footage and records and signed below."),
    # appendix
    "parameters": ("参数", "Parameters"),
    "run": ("运行信息", "Run"),
    "started": ("开始", "Started"),
    "finished": ("结束", "Finished"),
    "recordings_table": ("原始录像", "Original recordings"),
    "custody": ("保管链记录", "Chain of custody"),
    "custody_ok": ("哈希链完整", "hash chain intact"),
    "custody_broken": ("哈希链断裂", "hash chain broken"),
    "actor": ("操作人", "Actor"),
    "step": ("步骤", "Step"),
    "time": ("时间", "Time"),
    "methods": ("方法说明", "Methods"),
    "masking": ("个人信息已按规定遮蔽：身份证号仅显示前 6 位和后 4 位，手机号仅显示前 3 位和后 4 位，姓名仅显示姓氏。",
                "Personal data is masked: ID numbers show the first 6 and last 4 characters, phone numbers the first "
                "3 and last 4 digits, names the family name only."),
    "unmasked": ("注意：本报告包含完整个人信息，仅限执法使用，不得公开。",
                 "Warning: this report shows personal data in full; for enforcement use only, never for publication."),
    "page": ("第 {page} 页", "Page {page}"),
}

METHODS: dict[str, tuple[str, str]] = {
    "video": (
        "录像分析：对原始录像计算 SHA-256 后只读处理；先逐包读取时间戳（不解码）发现缺失、倒退和跳变，"
        "再按固定间隔抽取画面，检查遮挡、失焦、移位、黑屏、冻结与循环回放，并统计人数与考位占用。",
        "Footage: each original is hashed (SHA-256) and only read. Packet timestamps are read without decoding to "
        "find gaps, backward steps and jumps; pictures sampled at a fixed interval are checked for covering, "
        "defocus, camera movement, black or frozen video and replayed loops, and people and seats are counted.",
    ),
    "records": (
        "记录分析：校验身份证号、重复人员与证书；检验成绩在合格线处的堆积、通过率异常（漏斗图控制限）、"
        "答题用时与作答时间异常、答案雷同聚类；回访异常率给出 Wilson 置信区间；证书与合格记录、录像在场情况交叉核对。",
        "Records: ID numbers, duplicate people and certificates are validated; scores bunched at the pass mark, "
        "pass-rate outliers (funnel-plot control limits), completion- and response-time aberrance and answer "
        "similarity clusters are tested; callback rates carry Wilson intervals; certificates are cross-checked "
        "against passes and presence on video.",
    ),
    "risk": (
        "风险分 = Σ 严重程度权重 × 置信度（严重 8、高 4、中 2、低 1、提示 0）。有严重问题或风险分 ≥ 8 为高风险；"
        "有高级别问题或风险分 ≥ 4 为中风险；风险分 > 0 为低风险（仅计置信度 ≥ 0.5 的问题定级）。",
        "Risk score = Σ severity weight × confidence (critical 8, high 4, medium 2, low 1, info 0). Any critical "
        "finding or a score ≥ 8 is high risk; any high finding or a score ≥ 4 medium; a score > 0 low (the "
        "severity floors count findings with confidence ≥ 0.5).",
    ),
}


def tr(key: str, lang: str = "zh", **fmt: object) -> str:
    """The UI string ``key`` in ``lang``; unknown keys come back as themselves (visible, not fatal)."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text
