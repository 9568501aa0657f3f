from ods_charter.cli import main

main()
