"""What a member owns: "download my data" and "delete my account" (issue 17, point 7)."""
