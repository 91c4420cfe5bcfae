from netreg.cli import main

if __name__ == "__main__":  # spawned workers may import this module too; only the command runs main
    main()
