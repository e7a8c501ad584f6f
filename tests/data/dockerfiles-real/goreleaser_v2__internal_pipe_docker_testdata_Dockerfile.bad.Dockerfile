FROM nope
ADD mybin /
