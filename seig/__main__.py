from seig.cli import main

main()
