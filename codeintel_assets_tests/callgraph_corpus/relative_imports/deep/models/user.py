class User:
    def __init__(self, name, plan):
        self.name = name
        self.plan = plan

    def monthly_price(self):
        from ..services.pricing import price_of
        return price_of(self.plan)
