"""What a finding's page shows beside the finding itself: its emails and their delivery."""

from __future__ import annotations

from cap.workflow.base import UseCases


class CaseFiles(UseCases):
    pass
