from .jobs.worker import Worker


def main():
    worker = Worker(workers=4)
    print(worker.banner())


if __name__ == "__main__":
    main()
