"""Cases (案件): the register that feeds 附表1, call lists for 学员电话回访, and 典型案例.

Plain data and pure functions; files at the edges (:mod:`.register`), the database in
``examaudit.server.models_cases``. See ``docs/cases.md``.
"""
