"""`{% desk_summary as desk %}`: the admin index's figures (orders.selectors.desk_summary).

The chart of orders per day is drawn here as SVG geometry, on the server: no script, no CDN,
and nothing the page's Content-Security-Policy would have to allow.
"""

from dataclasses import dataclass
from datetime import date

from django import template

from orders.selectors import DeskSummary
from orders.selectors import desk_summary as summary_of_today

register = template.Library()

BAR_WIDTH = 16
BAR_GAP = 6
CHART_HEIGHT = 80  # the tallest bar; the axis labels sit below it


@dataclass(frozen=True)
class Bar:
    day: date
    orders: int
    x: int
    y: int
    height: int
    width: int = BAR_WIDTH

    @property
    def center(self) -> int:
        return self.x + self.width // 2


@dataclass(frozen=True)
class Desk:
    summary: DeskSummary
    bars: list[Bar]
    chart_width: int
    chart_height: int
    busiest: int


def bars(daily_orders: list[tuple[date, int]]) -> list[Bar]:
    """One bar per day, scaled so that the busiest day is CHART_HEIGHT tall."""
    busiest = max((orders for _, orders in daily_orders), default=0)
    drawn = []
    for index, (day, orders) in enumerate(daily_orders):
        height = round(orders * CHART_HEIGHT / busiest) if busiest else 0
        height = max(height, 1) if orders else 0  # a day with orders never looks empty
        x = index * (BAR_WIDTH + BAR_GAP)
        drawn.append(Bar(day=day, orders=orders, x=x, y=CHART_HEIGHT - height, height=height))
    return drawn


@register.simple_tag
def desk_summary() -> Desk:
    summary = summary_of_today()
    drawn = bars(summary.daily_orders)
    return Desk(
        summary=summary,
        bars=drawn,
        chart_width=len(drawn) * (BAR_WIDTH + BAR_GAP),
        chart_height=CHART_HEIGHT,
        busiest=max((bar.orders for bar in drawn), default=0),
    )
