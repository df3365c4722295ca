from generators__iter_protocol.collection import Batch


def main():
    batch = Batch(range(5))
    print(list(batch), len(batch))
    for chunk in batch.chunks(2):
        print(chunk)
    print(next(batch.chunks(3)))


if __name__ == "__main__":
    main()
