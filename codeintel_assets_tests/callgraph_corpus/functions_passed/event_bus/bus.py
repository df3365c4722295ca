class EventBus:
    def __init__(self):
        self._subscribers = {}

    def subscribe(self, topic, callback):
        self._subscribers.setdefault(topic, []).append(callback)
        return callback

    def publish(self, topic, payload):
        return [callback(payload) for callback in self._subscribers.get(topic, [])]
