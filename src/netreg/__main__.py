from netreg.cli import main

main()
