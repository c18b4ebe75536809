fn main() {
    println!("raftlab {}", env!("CARGO_PKG_VERSION"));
}
