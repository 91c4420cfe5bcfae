"""netreg: 网站、新媒体平台、工作群组及“网络大V”登记备案表的下发、校验与汇总。

Public API (imported lazily by each module; this package import stays cheap):
``netreg.forms.FORMS``, ``netreg.config.load_config``, ``netreg.template.write_templates``,
``netreg.validate.validate_paths``, ``netreg.summary.merge``.
"""

__version__ = "0.1.0"
