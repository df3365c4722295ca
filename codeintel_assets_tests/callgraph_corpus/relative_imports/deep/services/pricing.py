PRICES = {"free": 0, "pro": 12}


def price_of(plan):
    return PRICES[plan]
