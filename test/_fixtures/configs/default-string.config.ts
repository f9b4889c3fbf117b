export default 'cls';
