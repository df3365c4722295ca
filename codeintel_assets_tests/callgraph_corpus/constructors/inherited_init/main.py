"""Subclasses without __init__ of their own: the constructor runs the base's __init__,
found along the MRO, across modules and two levels deep."""
from constructors__inherited_init.compute import GpuInstance, inventory


def main():
    for res in inventory():
        print(res.label())
    print(GpuInstance("infer", size="xl").size())


if __name__ == "__main__":
    main()
