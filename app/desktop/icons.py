"""Tray icons drawn with QPainter: the colour says availability, a badge says registration.

Drawn rather than shipped so that every combination exists at every size a tray asks for
(16 to 64 px) and stays sharp. Colour alone is not the only signal: when the phone is not
registered the handset is struck through and a badge is drawn, so a colour-blind agent
(or a monochrome tray) still sees that calls cannot ring.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from app.core.availability import StatusType
from app.core.calls import RegistrationState, can_ring

SIZES = (16, 22, 24, 32, 48, 64)

COLOURS = {
    StatusType.AVAILABLE: QColor("#2e9d4f"),
    StatusType.BUSY: QColor("#d0342c"),
    StatusType.DND: QColor("#8e1b16"),
    StatusType.OFFWORK: QColor("#6f7680"),
}
NO_STATUS = QColor("#6f7680")
BADGE_FAILED = QColor("#d0342c")
BADGE_PENDING = QColor("#e0a100")


def _handset(size: float) -> QPainterPath:
    """A telephone handset in a box of `size`: two ear/mouth pieces joined by a grip."""
    s = size
    path = QPainterPath()
    path.moveTo(0.22 * s, 0.20 * s)
    path.cubicTo(0.10 * s, 0.32 * s, 0.16 * s, 0.58 * s, 0.40 * s, 0.78 * s)
    path.cubicTo(0.55 * s, 0.88 * s, 0.72 * s, 0.90 * s, 0.80 * s, 0.80 * s)
    path.lineTo(0.66 * s, 0.64 * s)
    path.lineTo(0.56 * s, 0.70 * s)
    path.cubicTo(0.46 * s, 0.64 * s, 0.38 * s, 0.56 * s, 0.32 * s, 0.46 * s)
    path.lineTo(0.38 * s, 0.36 * s)
    path.closeSubpath()
    return path


def draw(size: int, status: StatusType | None, registration: RegistrationState,
         missed: bool = False) -> QPixmap:
    """One pixmap of the tray icon."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    reachable = can_ring(registration)
    colour = COLOURS.get(status, NO_STATUS) if status is not None else NO_STATUS
    if not reachable:
        colour = QColor("#9aa0a6")
    margin = size * 0.04
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    painter.setBrush(QColor("white"))
    inset = size * 0.12
    painter.translate(inset, inset)
    painter.drawPath(_handset(size - 2 * inset))
    painter.resetTransform()
    if not reachable:
        pen = QPen(QColor("white"), max(1.5, size * 0.09))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(size * 0.22, size * 0.22), QPointF(size * 0.78, size * 0.78))
        painter.setPen(Qt.PenStyle.NoPen)
        badge = BADGE_FAILED if registration in (
            RegistrationState.FAILED, RegistrationState.UNREGISTERED) else BADGE_PENDING
        _badge(painter, size, badge, bottom=True)
    if missed:
        _badge(painter, size, QColor("#1f6feb"), bottom=False)
    painter.end()
    return pixmap


def _badge(painter: QPainter, size: int, colour: QColor, *, bottom: bool) -> None:
    r = size * 0.19
    centre = QPointF(size - r - 0.5, size - r - 0.5 if bottom else r + 0.5)
    painter.setPen(QPen(QColor("white"), max(1.0, size * 0.04)))
    painter.setBrush(colour)
    painter.drawEllipse(centre, r, r)


@lru_cache(maxsize=64)
def tray_icon(status: StatusType | None, registration: RegistrationState,
              missed: bool = False) -> QIcon:
    """The icon for this state at every tray size (cached; icons are immutable)."""
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(draw(size, status, registration, missed))
    return icon
