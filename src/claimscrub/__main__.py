"""``python -m claimscrub``."""

from claimscrub.cli import main

if __name__ == "__main__":
    main()
