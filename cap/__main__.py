from cap.cli import main

main()
