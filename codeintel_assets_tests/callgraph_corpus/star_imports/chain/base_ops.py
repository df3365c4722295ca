def clamp(value, low, high):
    return max(low, min(value, high))


def lerp(a, b, t):
    return a + (b - a) * clamp(t, 0.0, 1.0)
