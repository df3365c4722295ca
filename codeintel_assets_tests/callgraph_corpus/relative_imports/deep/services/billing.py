from . import pricing
from ..models.user import User


def invoice(user: User):
    return f"{user.name}: {user.monthly_price()} (list {pricing.price_of(user.plan)})"
