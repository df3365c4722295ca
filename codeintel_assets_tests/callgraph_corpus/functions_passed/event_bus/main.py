"""Callbacks passed to a subscriber registry and called when an event is published, including a
bound method and a function registered for two topics."""
from functions_passed__event_bus.bus import EventBus


def audit(payload):
    return f"audit {payload}"


class Mailer:
    def __init__(self):
        self.sent = []

    def send(self, payload):
        self.sent.append(payload)
        return f"mail {payload}"


def main():
    bus, mailer = EventBus(), Mailer()
    bus.subscribe("signup", audit)
    bus.subscribe("signup", mailer.send)
    bus.subscribe("delete", audit)
    print(bus.publish("signup", "ada"), bus.publish("delete", "bob"), mailer.sent)


if __name__ == "__main__":
    main()
