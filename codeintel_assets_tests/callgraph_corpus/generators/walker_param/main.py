"""Generator methods of two classes reached through values: the items of a *args tuple
copied into a list, and a parameter passed instances of either class."""
from generators__walker_param.tree import File, Folder, count


def main():
    tree = Folder("root", File("a.txt"), Folder("src", File("b.py")))
    for path in tree.walk():
        print(path)
    leaf = File("c.txt")
    print(count(tree), count(leaf))


if __name__ == "__main__":
    main()
