// Command cse-workshop is a terminal tutorial on client-side (envelope)
// encryption with AWS KMS, and a tool that encrypts files the same way.
package main

func main() {}
